/**
 * Loopback TCP ping-pong floor with node:net: `--role server` echoes,
 * `--role client --port P --count N` sends 32-byte messages one at a time and
 * reports round-trip percentiles (µs) over IPC or stdout.
 */
import net from 'node:net';
import * as hdr from 'hdr-histogram-js';
import { nowUs, parseFlags } from './lib.mjs';

const flags = parseFlags(process.argv.slice(2));
const SIZE = 32;

if (flags.role === 'server') {
  const srv = net.createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('data', (d) => sock.write(d));
  });
  srv.listen(0, '127.0.0.1', () =>
    console.log(`floor listening on http://127.0.0.1:${srv.address().port}`),
  );
  process.on('SIGTERM', () => process.exit(0));
} else {
  const count = Number(flags.count ?? 20000);
  const hist = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const sock = net.connect(Number(flags.port), '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.on('connect', r));
  const msg = Buffer.alloc(SIZE, 7);
  let got = 0;
  let sentAt = 0;
  let done = 0;
  await new Promise((resolve) => {
    sock.on('data', (d) => {
      got += d.length;
      if (got < SIZE) return;
      got -= SIZE;
      if (done >= 1000) hist.recordValue(Math.max(1, nowUs() - sentAt)); // 1,000 warm-up rounds
      done++;
      if (done >= count + 1000) return resolve();
      sentAt = nowUs();
      sock.write(msg);
    });
    sentAt = nowUs();
    sock.write(msg);
  });
  sock.destroy();
  const out = {
    type: 'floor',
    p50: hist.getValueAtPercentile(50),
    p99: hist.getValueAtPercentile(99),
    p999: hist.getValueAtPercentile(99.9),
    max: hist.maxValue,
  };
  if (process.send) process.send(out, () => process.exit(0));
  else console.log(JSON.stringify(out));
}
