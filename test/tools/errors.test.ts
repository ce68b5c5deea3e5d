/**
 * The tools' failures: bad arguments exit 2 with a message naming the flag;
 * a journal error, a refused upgrade or a close from the server exit 1 with
 * a message naming the cause and its code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JournalReader } from '../../src/journal/journal-reader.js';
import { JournalWriter } from '../../src/journal/journal-writer.js';
import { waitFor } from '../helpers/clients.js';
import { ensureBuilt } from '../helpers/process.js';
import { FEED_TOKEN, startServer } from '../helpers/server.js';
import { makeUpdate, runTool, tempDir } from './helpers.js';

beforeAll(() => ensureBuilt(), 120_000);

const URL = 'ws://127.0.0.1:9';

async function smallJournal(records = 3): Promise<string> {
  const dir = tempDir();
  const writer = await JournalWriter.open(dir, { epoch: 'errors' });
  for (let i = 1; i <= records; i++)
    writer.append('E', i, i * 1000, makeUpdate({ s: 'E', p: i }, i, i * 1000));
  await writer.close();
  return dir;
}

describe('tickwire-replay refuses bad arguments (exit 2)', () => {
  it.each([
    [['--speed', '0'], '--speed must be a number above 0 or "max", got "0"'],
    [['--speed=-2'], '--speed must be a number above 0 or "max", got "-2"'],
    [['--speed', '-2'], "Option '--speed' argument is ambiguous"],
    [['--speed', 'fast'], '--speed must be a number above 0 or "max", got "fast"'],
    [['--batch', '0'], '--batch must be an integer from 1 to 4096, got "0"'],
    [['--window', '1.5'], '--window must be an integer from 1 to 4096, got "1.5"'],
    [['--from', 'yesterday'], '--from must be an ISO 8601 time'],
    [['--from', '2000', '--to', '1000'], '--to (1000) must be after --from (2000)'],
    [['--symbols', ','], '--symbols names no symbol'],
    [['--bogus'], "Unknown option '--bogus'"],
    [['--speed'], "Option '--speed <value>' argument missing"],
    [['extra'], 'Unexpected argument'],
  ])('%j', async (args, message) => {
    const run = await runTool('tickwire-replay', [
      '--journal',
      '/nonexistent',
      '--url',
      URL,
      ...args,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).toMatch(/^tickwire-replay: .*\(see --help\)\n$/);
    expect(run.stdout).toBe('');
  });

  it('requires --journal and a ws:// --url', async () => {
    expect((await runTool('tickwire-replay', ['--url', URL])).stderr).toContain(
      '--journal DIR is required',
    );
    const http = await runTool('tickwire-replay', ['--journal', 'x', '--url', 'http://h:1']);
    expect([http.code, http.stderr]).toEqual([
      2,
      expect.stringContaining('--url must start with ws:// or wss://'),
    ]);
  });

  it('prints its usage with --help (exit 0)', async () => {
    const run = await runTool('tickwire-replay', ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: tickwire-replay --journal DIR --url ws://HOST:PORT');
  });
});

describe('tickwire-replay fails with the cause (exit 1)', () => {
  it('a missing journal directory: journal_io', async () => {
    const run = await runTool('tickwire-replay', [
      '--journal',
      '/nonexistent/journal',
      '--url',
      URL,
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^tickwire-replay: journal: open \/nonexistent\/journal: ENOENT.*\[journal_io\]\n$/,
    );
  });

  it('a directory without a journal: journal_empty', async () => {
    const run = await runTool('tickwire-replay', ['--journal', tempDir(), '--url', URL]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/holds no journal \(no \.twj segment\) \[journal_empty\]/);
  });

  it('a damaged segment header: journal_corrupt', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '00000000000000000001.twj'), Buffer.alloc(80, 0x5a));
    const run = await runTool('tickwire-replay', ['--journal', dir, '--url', URL]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\[journal_corrupt\]\n$/);
  });

  it('a wrong feed token: the upgrade refused with HTTP 401', async () => {
    const dir = await smallJournal();
    const node = await startServer();
    try {
      const run = await runTool('tickwire-replay', [
        '--journal',
        dir,
        '--url',
        node.wsUrl(''),
        '--feed-token',
        'wrong',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /refused the upgrade with HTTP 401 \(wrong or missing token\).*\[upgrade_refused\]/,
      );
      expect(run.stdout).toBe('');
      expect((await node.stats()).ticks.received).toBe(0);
    } finally {
      await node.stop();
    }
  });

  it('nothing listening: connect_failed', async () => {
    const run = await runTool('tickwire-replay', ['--journal', await smallJournal(), '--url', URL]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/ws:\/\/127\.0\.0\.1:9\/feed: .*ECONNREFUSED.*\[connect_failed\]/);
  });

  it('the server stopping mid-replay: server_closed with the close code', async () => {
    // 200 records 10 ms apart: 2 s at --speed 1; the server stops once the first ticks are in.
    const dir = tempDir();
    const writer = await JournalWriter.open(dir, { epoch: 'errors-close' });
    for (let i = 1; i <= 200; i++)
      writer.append('C', i, i * 10_000, makeUpdate({ s: 'C', p: i }, i, i * 10_000));
    await writer.close();
    const node = await startServer();
    const pending = runTool(
      'tickwire-replay',
      ['--journal', dir, '--url', node.wsUrl(''), '--quiet'],
      {
        TICKWIRE_FEED_TOKEN: FEED_TOKEN,
      },
    );
    await waitFor(async () => (await node.stats()).ticks.published > 0, 'the first ticks', 10_000);
    await node.stop();
    const run = await pending;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /the server closed the feed \(1001 going away.*\) \[server_closed\]/,
    );
  });
});

describe('tickwire-record refuses bad arguments (exit 2)', () => {
  it.each([
    [[], '--url is required'],
    [['--url', URL], '--out DIR is required'],
    [
      ['--url', URL, '--out', 'x', '--journal-sync', 'sometimes'],
      '--journal-sync must be always, interval or never, got "sometimes"',
    ],
    [
      ['--url', URL, '--out', 'x', '--duration', '0'],
      '--duration must be a number of seconds above 0, got "0"',
    ],
    [['--url', URL, '--out', 'x', '--speed', '1'], "Unknown option '--speed'"],
  ])('%j', async (args, message) => {
    const run = await runTool('tickwire-record', args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('a journal of another epoch in --out: epoch_mismatch, the journal untouched', async () => {
    const out = await smallJournal();
    const node = await startServer();
    try {
      const run = await runTool('tickwire-record', ['--url', node.wsUrl(''), '--out', out]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /holds a journal of epoch errors, the server numbers under epoch .*\[epoch_mismatch\]/,
      );
      expect(JournalReader.open(out).lastIndex).toBe(3);
    } finally {
      await node.stop();
    }
  });

  it('a wrong stream token: the upgrade refused with HTTP 401', async () => {
    const node = await startServer({ streamToken: 'stream-secret' });
    try {
      const out = join(tempDir(), 'rec');
      const run = await runTool('tickwire-record', [
        '--url',
        node.wsUrl(''),
        '--out',
        out,
        '--stream-token',
        'nope',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/HTTP 401.*\[upgrade_refused\]/);
    } finally {
      await node.stop();
    }
  });
});
