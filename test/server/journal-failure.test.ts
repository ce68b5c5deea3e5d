/**
 * The journal's disk fails under a running server (the segment's file
 * descriptor swapped for a read-only /dev/null, so the next write gets
 * EBADF from the kernel): frames waiting for it are still acked, with
 * their ticks rejected (acks never vanish); later frames are refused with
 * rate_limited saying the journal failed; /readyz answers 503; the error is
 * logged once; nothing escapes to the process.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, expect, test, vi } from 'vitest';
import { ErrorCode } from '../../src/protocol/codes.js';
import { breakDescriptorOf } from '../helpers/broken-fd.js';
import { type TestServer, httpGet, startServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'tickwire-jf-'));
let ts: TestServer | undefined;
const escaped: unknown[] = [];
const collect = (err: unknown): void => {
  escaped.push(err);
};

beforeEach(() => {
  process.on('uncaughtException', collect);
  process.on('unhandledRejection', collect);
});

afterEach(() => {
  process.off('uncaughtException', collect);
  process.off('unhandledRejection', collect);
  vi.restoreAllMocks();
});

afterAll(async () => {
  await ts?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test.skipIf(process.platform !== 'linux')(
  'a failed journal: waiting frames acked as rejected, later frames refused, not ready',
  async () => {
    const logged: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return String(chunk).includes('journal') ? true : write(chunk);
    });
    ts = await startServer({ journal: dir, journalSync: 'always' });
    const feed = await ts.feed('ack=1');
    feed.sendPack({ s: 'JF.A', p: 1 });
    expect(await feed.nextOp('ack')).toMatchObject({ frame: 1, accepted: 1, rejected: 0 });

    breakDescriptorOf(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.twj'))!,
      ),
    );

    feed.sendPack([
      { s: 'JF.A', p: 2 },
      { s: 'JF.A', p: 3 },
    ]);
    expect(await feed.nextOp('ack')).toMatchObject({ frame: 2, accepted: 0, rejected: 2 });
    feed.sendPack({ s: 'JF.A', p: 4 });
    expect(await feed.nextOp('error')).toMatchObject({ code: ErrorCode.RateLimited });
    expect(await feed.nextOp('ack')).toMatchObject({ frame: 3, accepted: 0, rejected: 1 });
    expect((await httpGet(ts.httpUrl('/readyz'))).status).toBe(503);
    expect(logged.filter((l) => l.includes('journal_io'))).toHaveLength(1);
    expect(escaped).toEqual([]);
  },
);
