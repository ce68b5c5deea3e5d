/**
 * tickwire-record: subscribes to a running server and writes every update
 * it receives into a journal directory (record.ts), until SIGINT/SIGTERM or
 * --duration; then closes the journal and prints one line of JSON. A close
 * from the server ends the recording too (journal closed, exit status 1).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { JournalReader } from '../journal/journal-reader.js';
import { JournalLock } from '../journal/lock.js';
import { readSymbolStates } from '../journal/rebuild.js';
import {
  EXIT_OK,
  UsageError,
  choiceOption,
  listOption,
  note,
  parseFlags,
  run,
  secondsOption,
  tokenOption,
  urlOption,
} from './cli.js';
import { openSocket, routeUrl } from './connect.js';
import { RecordFailure, Recorder } from './record.js';

const NAME = 'tickwire-record';
const HELP = `Usage: ${NAME} --url ws://HOST:PORT --out DIR [options]

Subscribes to a tickwire server and writes every update it receives (the
snapshot's included) into a journal directory, in the server's journal format,
under the epoch of the server's snapshot. Stops on SIGINT/SIGTERM or after
--duration, closing the journal cleanly.

Options:
  --url URL               server, ws://HOST:PORT or wss://HOST:PORT (/stream is added) (required)
  --out DIR               journal directory: created, or continued if it holds a journal
                          of the same epoch (required)
  --symbols A,B|*         symbols to record (default *: all)
  --stream-token TOKEN    stream token (default: $TICKWIRE_STREAM_TOKEN; none if unset)
  --journal-sync MODE     always, interval or never, as the server's (default interval)
  --duration S            stop after S seconds
  --quiet                 no progress lines on stderr (one every 10 s otherwise)
  -h, --help              show this help

At the end, one line of JSON on stdout:
  {"updates":…,"bytes":…,"symbols":…,"skipped":…,"gaps":…,"epoch":…,"seconds":…}
skipped: updates whose n was not above the symbol's last (a duplicate); gaps:
jumps of n (updates the server did not send this subscriber).
Exit status: 0 after a stop, 2 for bad arguments, 1 for a journal error, a
refused connection or subscription, or a close from the server.`;

function options(argv: readonly string[]) {
  const { values } = parseFlags(argv, {
    url: { type: 'string' },
    out: { type: 'string' },
    symbols: { type: 'string' },
    'stream-token': { type: 'string' },
    'journal-sync': { type: 'string' },
    duration: { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return undefined;
  const url = urlOption(values.url);
  if (values.out === undefined || values.out === '') throw new UsageError('--out DIR is required');
  return {
    url,
    out: values.out,
    symbols: listOption('symbols', values.symbols) ?? ['*'],
    token: tokenOption(values['stream-token'], 'TICKWIRE_STREAM_TOKEN'),
    sync: choiceOption(
      'journal-sync',
      values['journal-sync'],
      ['always', 'interval', 'never'],
      'interval',
    ),
    duration: secondsOption('duration', values.duration),
    quiet: values.quiet === true,
  };
}

/** The journal already in `dir`, if any: its epoch and each symbol's last n (read whole: it is checked too). */
function existingJournal(dir: string) {
  if (!existsSync(dir)) return undefined;
  const reader = JournalReader.open(dir);
  if (reader.epoch === undefined) return undefined;
  const lastN = new Map<string, number>();
  for (const [symbol, state] of readSymbolStates(reader, 0)) lastN.set(symbol, state.lastN);
  return { epoch: reader.epoch, lastN };
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (o === undefined) {
    process.stdout.write(`${HELP}\n`);
    return EXIT_OK;
  }
  // One process per journal directory (a server's --journal included).
  mkdirSync(o.out, { recursive: true });
  const lock = JournalLock.acquire(o.out);
  try {
    return await record(o);
  } finally {
    lock.release();
  }
}

async function record(o: NonNullable<ReturnType<typeof options>>): Promise<number> {
  const existing = existingJournal(o.out);
  const ws = await openSocket(routeUrl(o.url, '/stream'), o.token);
  const recorder = new Recorder(ws, {
    out: o.out,
    sync: o.sync,
    existing,
    onOpen: (epoch, created) =>
      note(
        NAME,
        `recording into ${o.out} (${created ? 'new journal' : 'continued'}, epoch ${epoch})`,
      ),
    onServerError: (code, message) => note(NAME, `server: ${code}: ${message}`),
  });
  ws.send(new Packr({ useRecords: false }).pack({ op: 'subscribe', symbols: o.symbols }), {
    binary: true,
  });
  const stop = (why: string): void => {
    if (!o.quiet) note(NAME, `${why}: closing the journal`);
    recorder.stop();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  if (o.duration !== undefined)
    setTimeout(() => stop(`${o.duration} s`), o.duration * 1000).unref();
  const progress = o.quiet
    ? undefined
    : setInterval(() => {
        const s = recorder.summary();
        note(
          NAME,
          `${s.updates} updates of ${s.symbols} symbols, ${s.bytes} bytes, ${s.skipped} skipped`,
        );
      }, 10_000).unref();
  try {
    const summary = await recorder.done;
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return EXIT_OK;
  } catch (err) {
    if (err instanceof RecordFailure) process.stdout.write(`${JSON.stringify(err.summary)}\n`);
    throw err;
  } finally {
    clearInterval(progress);
  }
}

run(NAME, main);
