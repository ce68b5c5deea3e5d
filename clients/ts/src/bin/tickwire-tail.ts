#!/usr/bin/env node
/**
 * tickwire-tail: prints the updates of some symbols as JSON lines.
 *   tickwire-tail --url ws://HOST:PORT [--format json] [--token T] SYMBOL…
 */
import WebSocket from 'ws';
import type { Update } from '../../../../src/protocol/types.js';
import { isValidSymbol } from '../../../../src/protocol/control.js';
import { StreamClient, type StreamFormat } from '../stream-client.js';
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

const NAME = 'tickwire-tail';
const HELP = `Usage: ${NAME} --url ws://HOST:PORT [options] SYMBOL...

Subscribes to the symbols ("*" for all) and prints every update as one JSON line
on stdout, with lag_us = now (µs) - r (the server's receive time). Snapshot
entries are printed first, with "snapshot": true. Sequence gaps and resets go to
stderr. Reconnects (and resubscribes) when the connection drops; each failed
attempt is reported on stderr.

Options:
  --url URL          server address, ws://HOST:PORT (required)
  --format FORMAT    msgpack (default) or json: the wire format to ask for
  --token TOKEN      stream token (default: $TICKWIRE_STREAM_TOKEN; only if the server needs one)
  --count N          exit after N live updates (default: run until interrupted)
  -h, --help         show this help

Exit status: 0 on success or interrupt, 2 for bad arguments, 1 if the connection
is refused or lost for good.`;

interface Options {
  url: string;
  format: StreamFormat;
  token: string | undefined;
  count: number;
  symbols: string[];
}

function options(argv: string[]): Options | undefined {
  const { values, positionals } = parse(
    argv,
    {
      url: { type: 'string' },
      format: { type: 'string' },
      token: { type: 'string' },
      count: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    true,
  );
  if (values.help === true) return undefined;
  const url = urlOption(values.url);
  const format = values.format ?? 'msgpack';
  if (format !== 'json' && format !== 'msgpack') {
    throw new UsageError(`--format must be json or msgpack, got "${format}"`);
  }
  if (positionals.length === 0) throw new UsageError('give at least one SYMBOL ("*" for all)');
  for (const s of positionals) {
    if (s !== '*' && !isValidSymbol(s)) {
      throw new UsageError(`invalid symbol "${s}": use 1-32 characters of [A-Za-z0-9._:/-] or "*"`);
    }
  }
  const token = values.token ?? process.env.TICKWIRE_STREAM_TOKEN;
  return {
    url,
    format,
    token: token === '' ? undefined : token,
    count: numberOption('count', values.count, 0, 0, Number.MAX_SAFE_INTEGER, true),
    symbols: positionals,
  };
}

function line(u: Update, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ ...u, lag_us: nowMicros() - u.r, ...extra })}\n`;
}

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
  const client = new StreamClient({
    url: opts.url,
    WebSocket,
    format: opts.format,
    symbols: opts.symbols,
    retryFirstConnect: false,
    ...(opts.token === undefined ? {} : { token: opts.token }),
  });
  const limit = opts.count;
  let seen = 0;
  let stopping = false;
  const stop = (code: number): void => {
    if (stopping) return;
    stopping = true;
    void client.close().then(() => process.exit(code));
  };
  client.on('snapshot', (ticks) => {
    for (const u of ticks) process.stdout.write(line(u, { snapshot: true }));
  });
  client.on('update', (u) => {
    if (stopping) return;
    process.stdout.write(line(u));
    if (limit > 0 && ++seen >= limit) stop(0);
  });
  client.on('gap', (g) =>
    process.stderr.write(`gap ${g.symbol}: expected n=${g.expected}, got n=${g.got}\n`),
  );
  client.on('reset', (r) =>
    process.stderr.write(
      r.reason === 'epoch'
        ? `reset ${r.symbol}: new numbering (epoch ${r.epoch}); last n was ${r.previous}\n`
        : `reset ${r.symbol}: n went back from ${r.previous} to ${r.got}\n`,
    ),
  );
  client.on('recoverySkipped', (r) =>
    process.stderr.write(`recovery skipped: ${r.symbols} symbols do not fit in one request\n`),
  );
  client.on('connectFailed', (f) => {
    if (f.retryInMs !== undefined) {
      process.stderr.write(
        `${NAME}: attempt ${f.attempt} failed (${f.error.message}), retrying in ${f.retryInMs} ms\n`,
      );
    }
  });
  client.on('error', (e) => {
    if (client.state === 'closed') {
      if (!stopping) die(NAME, e.message, EXIT_FAILURE);
    } else process.stderr.write(`${NAME}: ${e.code}: ${e.message}\n`);
  });
  client.on('state', (s) => {
    if (s === 'reconnecting') process.stderr.write(`${NAME}: connection lost, reconnecting\n`);
  });
  process.once('SIGINT', () => stop(0));
  process.once('SIGTERM', () => stop(0));
  try {
    await waitOpen(client);
  } catch (err) {
    die(NAME, err instanceof Error ? err.message : String(err), EXIT_FAILURE);
  }
}

await main();
