/**
 * tickwire-replay: feeds a journal's updates (or a time range or some
 * symbols of it) back into a server's /feed, at the recorded pace, N times
 * faster, or as fast as the server acknowledges (replay.ts). Progress goes
 * to stderr about once per second; one line of JSON to stdout at the end.
 */
import { constants } from 'node:os';
import { JournalReader, type ReadOptions } from '../journal/journal-reader.js';
import { MAX_BATCH } from '../protocol/codes.js';
import {
  EXIT_OK,
  ToolError,
  UsageError,
  intOption,
  isoOfUs,
  listOption,
  note,
  parseFlags,
  run,
  speedOption,
  timeOption,
  tokenOption,
  urlOption,
} from './cli.js';
import { openSocket, routeUrl } from './connect.js';
import { Replay } from './replay.js';

const NAME = 'tickwire-replay';
const HELP = `Usage: ${NAME} --journal DIR --url ws://HOST:PORT [options]

Feeds the updates of a tickwire journal to a server's /feed, stripped back to
the ticks the feed sent (n and r dropped), in journal order.

Options:
  --journal DIR        journal directory to read (required)
  --url URL            server, ws://HOST:PORT or wss://HOST:PORT (/feed is added) (required)
  --feed-token TOKEN   feed token (default: $TICKWIRE_FEED_TOKEN)
  --from TIME          only updates received at or after TIME (ISO 8601, or µs since 1970)
  --to TIME            only updates received before TIME
  --symbols A,B        only these symbols
  --speed N|max        N times the recorded pace (default 1), or max: as fast as acks come
  --batch N            ticks per frame at --speed max, 1-${MAX_BATCH} (default 100)
  --window N           frames sent and not yet acknowledged, 1-4096 (default 64)
  --max-gap S          a silence longer than S seconds in the journal is shortened to S
                       (default 10; 0 keeps every gap); updates older than the one
                       before them (a recording's snapshot) are sent at once
  --quiet              no progress lines on stderr
  -h, --help           show this help

At the end, one line of JSON on stdout:
  {"ticks":…,"frames":…,"accepted":…,"rejected":…,"seconds":…,"rate":…}
Exit status: 0 when every frame was acknowledged, 2 for bad arguments, 1 for a
journal error, a refused connection or a close from the server; 130/143 after
SIGINT/SIGTERM (the frames in flight are awaited and the summary printed).`;

interface Options {
  readonly journal: string;
  readonly url: URL;
  readonly token: string | undefined;
  readonly read: ReadOptions;
  readonly speed: number;
  readonly batch: number;
  readonly window: number;
  readonly maxGapS: number;
  readonly quiet: boolean;
}

function options(argv: readonly string[]): Options | undefined {
  const { values } = parseFlags(argv, {
    journal: { type: 'string' },
    url: { type: 'string' },
    'feed-token': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    symbols: { type: 'string' },
    speed: { type: 'string' },
    batch: { type: 'string' },
    window: { type: 'string' },
    'max-gap': { type: 'string' },
    quiet: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) return undefined;
  if (values.journal === undefined || values.journal === '') {
    throw new UsageError('--journal DIR is required');
  }
  const url = urlOption(values.url);
  const fromTimeUs = timeOption('from', values.from);
  const toTimeUs = timeOption('to', values.to);
  if (fromTimeUs !== undefined && toTimeUs !== undefined && toTimeUs <= fromTimeUs) {
    throw new UsageError(`--to (${values.to}) must be after --from (${values.from})`);
  }
  const symbols = listOption('symbols', values.symbols);
  return {
    journal: values.journal,
    url,
    token: tokenOption(values['feed-token'], 'TICKWIRE_FEED_TOKEN'),
    read: { fromTimeUs, toTimeUs, symbols },
    speed: speedOption(values.speed),
    batch: intOption('batch', values.batch, 100, 1, MAX_BATCH),
    window: intOption('window', values.window, 64, 1, 4096),
    maxGapS: intOption('max-gap', values['max-gap'], 10, 0, 86_400 * 365),
    quiet: values.quiet === true,
  };
}

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (o === undefined) {
    process.stdout.write(`${HELP}\n`);
    return EXIT_OK;
  }
  // The journal first: a bad one fails before anything is sent.
  const reader = JournalReader.open(o.journal);
  if (reader.segments.length === 0) {
    throw new ToolError('journal_empty', `${o.journal} holds no journal (no .twj segment)`);
  }
  const torn = reader.tornTail;
  if (torn !== undefined) {
    note(NAME, `the journal ends in a torn tail (${torn.reason}); replaying up to it`);
  }
  const ws = await openSocket(routeUrl(o.url, '/feed', { ack: '1' }), o.token);
  let errors = 0;
  const replay = new Replay(ws, reader, {
    read: o.read,
    speed: o.speed,
    batch: o.batch,
    window: o.window,
    maxGapUs: o.maxGapS === 0 ? Infinity : o.maxGapS * 1e6,
    onProgress: o.quiet
      ? undefined
      : (p) =>
          note(
            NAME,
            `${p.ticks} ticks in ${p.frames} frames (${p.rate}/s), ${p.accepted} accepted, ` +
              `${p.rejected} rejected; at ${p.positionUs > 0 ? isoOfUs(p.positionUs) : 'the start'}`,
          ),
    onServerError: (code, message) => {
      if (++errors <= 5) note(NAME, `server: ${code}: ${message}`);
      else if (errors === 6) note(NAME, 'server: more errors (not shown)');
    },
  });
  let interrupted = 0;
  const stop = (signal: NodeJS.Signals): void => {
    note(NAME, `${signal}: stopping after the frames in flight`);
    interrupted = 128 + constants.signals[signal];
    replay.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const summary = await replay.run();
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  return interrupted === 0 ? EXIT_OK : interrupted;
}

run(NAME, main);
