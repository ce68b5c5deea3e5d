#!/usr/bin/env node
/**
 * tickwire-feed: a synthetic random-walk feed at a steady rate.
 *   tickwire-feed --url ws://HOST:PORT --token T --symbols N --rate R --batch B --duration S [--ack]
 */
import WebSocket from 'ws';
import type { Tick } from '../../../../src/protocol/types.js';
import { MAX_BATCH } from '../../../../src/protocol/codes.js';
import { FeedClient, type FrameAck } from '../feed-client.js';
import {
  EXIT_FAILURE,
  EXIT_USAGE,
  UsageError,
  die,
  nowMicros,
  numberOption,
  parse,
  urlOption,
  waitOpen,
} from './cli.js';

const NAME = 'tickwire-feed';
const HELP = `Usage: ${NAME} --url ws://HOST:PORT --token TOKEN [options]

Publishes random-walk ticks for N synthetic symbols (SYN0001, SYN0002, ...) at a
steady rate, then prints what it sent (and, with --ack, what the server accepted).

Options:
  --url URL          server address, ws://HOST:PORT (required)
  --token TOKEN      feed token (default: $TICKWIRE_FEED_TOKEN; required)
  --symbols N        number of symbols (default 10)
  --rate R           ticks per second (default 1000)
  --batch B          ticks per frame, 1-${MAX_BATCH} (default 100)
  --duration S       seconds to run (default 10)
  --ack              ask the server to acknowledge every frame and report its counts
  -h, --help         show this help

Exit status: 0 on success, 2 for bad arguments, 1 if the connection is refused or lost for good.`;

interface Options {
  url: string;
  token: string;
  symbols: number;
  rate: number;
  batch: number;
  duration: number;
  ack: boolean;
}

function options(argv: string[]): Options | undefined {
  const { values } = parse(
    argv,
    {
      url: { type: 'string' },
      token: { type: 'string' },
      symbols: { type: 'string' },
      rate: { type: 'string' },
      batch: { type: 'string' },
      duration: { type: 'string' },
      ack: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    false,
  );
  if (values.help === true) return undefined;
  const token = values.token ?? process.env.TICKWIRE_FEED_TOKEN;
  const url = urlOption(values.url);
  if (token === undefined || token === '') {
    throw new UsageError('--token is required (or set TICKWIRE_FEED_TOKEN)');
  }
  return {
    url,
    token,
    symbols: numberOption('symbols', values.symbols, 10, 1, 100_000, true),
    rate: numberOption('rate', values.rate, 1000, 0.001, 10_000_000, false),
    batch: numberOption('batch', values.batch, 100, 1, MAX_BATCH, true),
    duration: numberOption('duration', values.duration, 10, 0, 31_536_000, false),
    ack: values.ack === true,
  };
}

/** Random-walk prices, one per symbol. */
class Walk {
  readonly #symbols: string[];
  readonly #prices: number[];
  #next = 0;

  constructor(count: number) {
    this.#symbols = Array.from({ length: count }, (_, i) => `SYN${String(i + 1).padStart(4, '0')}`);
    this.#prices = this.#symbols.map(() => 20 + Math.random() * 480);
  }

  tick(): Tick {
    const i = this.#next;
    this.#next = (i + 1) % this.#symbols.length;
    const last = this.#prices[i]!;
    const p = Math.max(0.01, Math.round(last * (1 + (Math.random() - 0.5) * 0.002) * 100) / 100);
    this.#prices[i] = p;
    return {
      s: this.#symbols[i]!,
      p,
      q: 1 + Math.floor(Math.random() * 500),
      b: Math.round((p - 0.01) * 100) / 100,
      a: Math.round((p + 0.01) * 100) / 100,
      t: nowMicros(),
    };
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => (ms <= 0 ? setImmediate(resolve) : setTimeout(resolve, ms)));

async function main(): Promise<void> {
  let opts: Options | undefined;
  try {
    opts = options(process.argv.slice(2));
  } catch (err) {
    die(NAME, err instanceof Error ? err.message : String(err), EXIT_USAGE);
  }
  if (opts === undefined) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const feed = new FeedClient({
    url: opts.url,
    token: opts.token,
    WebSocket,
    ack: opts.ack,
    retryFirstConnect: false,
  });
  let fatal: Error | undefined;
  let serverErrors = 0;
  feed.on('error', (e) => {
    if (feed.state === 'closed') fatal = e;
    else serverErrors++;
  });
  feed.on('connectFailed', (f) => {
    if (f.retryInMs !== undefined) {
      process.stderr.write(
        `${NAME}: attempt ${f.attempt} failed (${f.error.message}), retrying in ${f.retryInMs} ms\n`,
      );
    }
  });
  try {
    await waitOpen(feed);
  } catch (err) {
    die(NAME, err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }

  const walk = new Walk(opts.symbols);
  const total = Math.round(opts.rate * opts.duration);
  const frameMs = (opts.batch / opts.rate) * 1000;
  const acks: Promise<FrameAck>[] = [];
  const start = performance.now();
  let sent = 0;
  let frames = 0;
  while (sent < total && fatal === undefined) {
    await sleep(start + frames * frameMs - performance.now());
    if (feed.backpressured) await feed.drained();
    const n = Math.min(opts.batch, total - sent);
    const ticks = Array.from({ length: n }, () => walk.tick());
    const result = feed.publish(ticks);
    if (result !== undefined) acks.push(result);
    sent += n;
    frames++;
  }
  await feed.drained().catch(() => undefined);
  const seconds = (performance.now() - start) / 1000;
  let accepted = 0;
  let rejected = 0;
  let unacked = 0;
  for (const r of await Promise.allSettled(acks)) {
    if (r.status === 'fulfilled') {
      accepted += r.value.accepted;
      rejected += r.value.rejected;
    } else unacked++;
  }
  await feed.close();
  if (fatal !== undefined) die(NAME, fatal.message, EXIT_FAILURE);
  process.stdout.write(
    `sent ${sent} ticks in ${frames} frames for ${opts.symbols} symbols in ${seconds.toFixed(2)} s ` +
      `(${Math.round(sent / Math.max(seconds, 1e-9))} ticks/s)\n`,
  );
  if (opts.ack) {
    process.stdout.write(
      `server accepted ${accepted} ticks, rejected ${rejected}` +
        `${unacked > 0 ? `; ${unacked} frames unacknowledged` : ''}\n`,
    );
  }
  if (serverErrors > 0)
    process.stderr.write(`${NAME}: ${serverErrors} error replies from the server\n`);
  const dropped = feed.dropped;
  if (dropped.ticks > 0) {
    process.stderr.write(
      `${NAME}: ${dropped.ticks} ticks in ${dropped.frames} frames dropped unsent (stale or over the queue bound)\n`,
    );
  }
}

await main();
