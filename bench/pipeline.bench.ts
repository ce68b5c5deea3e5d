/**
 * Pipeline micro-benchmark (no sockets): scan + slab copy + sequence + publish
 * to a stub, for single-tick frames and batches of 100, plus bytes allocated
 * per tick and GC counts over 1M ticks; and batches in the shape of the
 * end-to-end ingest row (1,000 symbols, one subscriber on `*`), the pipeline's
 * share of that row.
 *
 * Run with `npm run bench:pipeline` (builds first, runs under --expose-gc and
 * a 64 MB semi-space so the allocation loop sees no scavenge: then the heap
 * delta is the bytes allocated, and the GC count proves it).
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import os from 'node:os';
import { Packr } from 'msgpackr';
import { Bench } from 'tinybench';
import { Pipeline, type Publisher } from '../src/pipeline/pipeline.js';
import { ALL_MSGPACK_TOPIC } from '../src/pipeline/topics.js';

/**
 * A stub that drops messages and reports one msgpack subscriber on every
 * topic (`everywhere`), or only on `*` (the end-to-end ingest row's shape:
 * one subscriber on `*`).
 */
class StubPublisher implements Publisher {
  messages = 0;
  bytes = 0;
  readonly #everywhere: boolean;
  constructor(everywhere = true) {
    this.#everywhere = everywhere;
  }
  publish(_topic: string, message: Uint8Array | string): void {
    this.messages++;
    this.bytes += message.length;
  }
  subscribers(topic: string): number {
    if (!this.#everywhere) return topic === ALL_MSGPACK_TOPIC ? 1 : 0;
    return topic.charCodeAt(0) === 0x6d /* 'm' */ ? 1 : 0;
  }
}

const SYMBOLS = 100;
/** Symbols of the ingest-shaped scenario, as in the benchmark's ingest row. */
const INGEST_SYMBOLS = 1000;
const packer = new Packr({ useRecords: false });

function tick(i: number, symbols = SYMBOLS): Record<string, unknown> {
  const p = 100 + (i % 997) / 100;
  return {
    s: `SYM${i % symbols}`,
    p,
    q: 1 + (i % 50),
    b: p - 0.01,
    a: p + 0.01,
    t: 1_732_500_000_000_000 + i,
  };
}

/** Pre-encoded frames, so the benchmark measures the pipeline, not msgpackr. */
function frames(count: number, perFrame: number, symbols = SYMBOLS): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let f = 0; f < count; f++) {
    const ticks = [];
    for (let k = 0; k < perFrame; k++) ticks.push(tick(f * perFrame + k, symbols));
    out.push(perFrame === 1 ? packer.pack(ticks[0]) : packer.pack(ticks));
  }
  return out;
}

const single = frames(1000, 1);
const batch100 = frames(100, 100);
const ingest = frames(100, 100, INGEST_SYMBOLS);

function runner(
  frameSet: Uint8Array[],
  everywhere = true,
): {
  pipeline: Pipeline;
  stub: StubPublisher;
  run: () => void;
} {
  const stub = new StubPublisher(everywhere);
  // The server's defaults: history 100 (config.ts), updates coalesced per
  // turn. Each frame is flushed as if it were alone in its turn (a server at
  // low load): the turn batcher's copies are paid, none of its savings.
  const pipeline = new Pipeline(stub, { history: 100 });
  let i = 0;
  return {
    pipeline,
    stub,
    run: () => {
      pipeline.process(frameSet[i]!, performance.now());
      pipeline.flush();
      i = i + 1 === frameSet.length ? 0 : i + 1;
    },
  };
}

interface Row {
  readonly name: string;
  readonly ticksPerFrame: number;
  readonly medianNsPerFrame: number;
  readonly ticksPerSecond: number;
  readonly samples: number;
}

async function throughput(): Promise<Row[]> {
  const bench = new Bench({ time: 2000, warmupTime: 500 });
  const s = runner(single);
  const b = runner(batch100);
  const g = runner(ingest, false);
  bench.add('single tick per frame', s.run);
  bench.add('batch of 100 ticks per frame', b.run);
  // The shape of bench/results' ingest row, for its "within 1.5x" comparison.
  bench.add(`ingest shape: batches of 100, ${INGEST_SYMBOLS} symbols, one subscriber on *`, g.run);
  await bench.run();
  return bench.tasks.map((task) => {
    const per = task.name.startsWith('single') ? 1 : 100;
    const r = task.result;
    if (r === undefined || r.state !== 'completed')
      throw new Error(`${task.name} did not complete`);
    const medianMs = r.latency.p50 ?? r.latency.mean;
    return {
      name: task.name,
      ticksPerFrame: per,
      medianNsPerFrame: medianMs * 1e6,
      ticksPerSecond: (per * 1000) / medianMs,
      samples: r.latency.samplesCount ?? r.latency.samples?.length ?? 0,
    };
  });
}

interface AllocRow {
  readonly name: string;
  readonly ticks: number;
  readonly bytesPerTick: number | undefined;
  readonly gcs: number;
  readonly seconds: number;
}

function allocation(
  name: string,
  frameSet: Uint8Array[],
  perFrame: number,
  totalTicks: number,
): AllocRow {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (npm run bench:pipeline does)');
  const r = runner(frameSet);
  // Warm up: JIT, slabs, symbol table, last-value caches.
  for (let k = 0; k < 20_000 / perFrame; k++) r.run();
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind !== constants.NODE_PERFORMANCE_GC_WEAKCB) gcs++;
    }
  });
  gc();
  gc();
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const framesToRun = totalTicks / perFrame;
  for (let k = 0; k < framesToRun; k++) r.run();
  const seconds = (performance.now() - t0) / 1000;
  const after = process.memoryUsage().heapUsed;
  obs.disconnect();
  // Observer callbacks are delivered asynchronously; flush by taking records.
  gcs += obs.takeRecords?.().length ?? 0;
  return {
    name,
    ticks: totalTicks,
    bytesPerTick: gcs === 0 ? (after - before) / totalTicks : undefined,
    gcs,
    seconds,
  };
}

async function main(): Promise<void> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `tickwire pipeline benchmark — ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()} ${os.release()}`,
  );
  console.log(
    'stub publisher: one msgpack subscriber on every topic, messages dropped; 100 symbols, 6-field ticks\n' +
      `(ingest shape: ${INGEST_SYMBOLS} symbols, a subscriber on * only)\n`,
  );

  const rows = await throughput();
  console.log('throughput (tinybench, median per frame):');
  console.table(
    rows.map((r) => ({
      scenario: r.name,
      'ns/frame (median)': Math.round(r.medianNsPerFrame),
      'ticks/s': Math.round(r.ticksPerSecond).toLocaleString('en-US'),
      samples: r.samples,
    })),
  );

  const allocRows = [
    allocation('single tick per frame', single, 1, 1_000_000),
    allocation('batch of 100 ticks per frame', batch100, 100, 1_000_000),
  ];
  await new Promise((r) => setTimeout(r, 50));
  console.log('allocation over 1M ticks (heap delta with no GC in the loop):');
  console.table(
    allocRows.map((r) => ({
      scenario: r.name,
      'bytes/tick':
        r.bytesPerTick === undefined ? `n/a (${r.gcs} GCs ran)` : r.bytesPerTick.toFixed(2),
      'GCs in loop': r.gcs,
      'ticks/s (loop)': Math.round(r.ticks / r.seconds).toLocaleString('en-US'),
    })),
  );
  const batchRow = rows.find((r) => r.name.startsWith('batch'));
  const batchAlloc = allocRows[1];
  console.log('targets (printed, not enforced): >= 3,000,000 ticks/s in batches; <= 16 bytes/tick');
  console.log(
    `  batches: ${Math.round(batchRow?.ticksPerSecond ?? 0).toLocaleString('en-US')} ticks/s; ` +
      `allocation: ${batchAlloc?.bytesPerTick?.toFixed(2) ?? 'n/a'} bytes/tick`,
  );
}

await main();
