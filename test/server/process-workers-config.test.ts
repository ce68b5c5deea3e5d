/**
 * `--workers` above 1 without `--nats` is refused at start (each process
 * would have its own bus): exit 1 with invalid_config, nothing listening.
 */
import { beforeAll, expect, test } from 'vitest';
import { ensureBuilt, spawnServer } from '../helpers/process.js';

beforeAll(() => {
  ensureBuilt();
});

test('--workers 2 without --nats exits 1 with invalid_config', async () => {
  const s = spawnServer(['--port', '0', '--feed-token', 'workers-cfg-1', '--workers', '2']);
  const { code } = await s.exited;
  expect(code).toBe(1);
  expect(s.stderr()).toContain('[invalid_config]');
  expect(s.stdout()).not.toContain('listening');
});
