/**
 * What `npm run bench` (full) and `npm run bench:quick` measure, and for how
 * long. Rates are ticks/s offered by the feed; deliveries/s = rate x
 * subscribers when everyone subscribes to every symbol.
 */

/** First rate a capacity search tries, per server and frame size (ticks/s). */
const START = {
  // Single ticks at 100 subscribers: the loader reads one frame per update
  // at low rates and passes 70% of its core near 3k ticks/s, so the search
  // starts below that and passes over the loader-bound window upwards
  // (method.mjs, LOADER_SKIPS) to where a coalescing server's frames grow.
  1: {
    tickwire: 2000,
    'tickwire-frame': 2000,
    'uws-raw': 2000,
    'ws-msgpack': 1500,
    'ws-json': 1000,
    socketio: 500,
    'tickwire-nats': 1000,
  },
  100: {
    tickwire: 100_000,
    'tickwire-frame': 100_000,
    'tickwire-journal': 100_000,
    'tickwire-journal-always': 100_000,
    'uws-raw': 150_000,
    'ws-msgpack': 50_000,
    'ws-json': 40_000,
    socketio: 20_000,
    'tickwire-nats': 20_000,
  },
};

export function startRate(server, cfg) {
  const base = (START[cfg.batch] ?? START[100])[server] ?? 1000;
  // Fewer subscribers, more ticks for the same deliveries/s (and the reverse).
  const scaled = (base * 100) / Math.max(1, cfg.subs);
  return Math.max(cfg.batch, Math.round(scaled / cfg.batch) * cfg.batch);
}

const ALL = ['tickwire', 'uws-raw', 'ws-msgpack', 'ws-json', 'socketio', 'tickwire-nats'];
const PAIR = ['tickwire', 'uws-raw'];
/** Issue 14's rows: tickwire coalescing per turn, per feed frame (before), raw uWS. */
const TURN = ['tickwire', 'tickwire-frame', 'uws-raw'];
/** Issue 16's rows: tickwire with a journal, synced every 100 ms and before every ack. */
const JOURNAL = ['tickwire-journal', 'tickwire-journal-always'];

export const FULL = {
  name: 'full',
  reps: 3,
  floorCount: 20_000,
  search: { warmS: 5, probeS: 3, tolerance: 0.15, minRate: 100, maxRate: 2_000_000 },
  confirm: { warmS: 0, windowS: 10 },
  overload: { warmS: 0, windowS: 10 },
  fixed: { warmS: 5, windowS: 10 },
  latencyPlan: { warmS: 5, windowS: 5 },
  capacity: [
    { cfg: { subs: 100, symbols: 10, batch: 1 }, servers: [...ALL, 'tickwire-frame'] },
    { cfg: { subs: 100, symbols: 10, batch: 100 }, servers: [...ALL, 'tickwire-frame'] },
    { cfg: { subs: 100, symbols: 1000, batch: 100 }, servers: PAIR },
    { cfg: { subs: 10, symbols: 10, batch: 100 }, servers: PAIR },
    { cfg: { subs: 1000, symbols: 10, batch: 100 }, servers: PAIR },
    // One subscriber: what one feed connection can push through (ingest),
    // and what a journal costs it (issue 16).
    {
      cfg: { subs: 1, symbols: 1000, batch: 100 },
      servers: [...PAIR, ...JOURNAL],
      scenario: 'ingest',
    },
  ],
  overloadOf: [
    { cfg: { subs: 100, symbols: 10, batch: 1 }, servers: [...ALL, 'tickwire-frame'] },
    { cfg: { subs: 100, symbols: 10, batch: 100 }, servers: TURN },
  ],
  cost: [
    { cfg: { subs: 100, symbols: 10, batch: 100 }, rate: 20_000, servers: ALL },
    // Ingest at a fixed 1 M ticks/s, with and without a journal (issue 16).
    {
      cfg: { subs: 1, symbols: 1000, batch: 100 },
      rate: 1_000_000,
      servers: [...PAIR, ...JOURNAL],
    },
    // 10 M deliveries/s (issue 14's fixed load), with raw uWS also relaying
    // ticks as long as tickwire's updates: bytes against server work.
    {
      cfg: { subs: 100, symbols: 10, batch: 100 },
      rate: 100_000,
      servers: [...TURN, 'uws-raw-padded'],
    },
    { cfg: { subs: 100, symbols: 10, batch: 1 }, rate: 1000, servers: ALL },
  ],
  // 10k ticks/s x 100 subscribers and above is a million single-tick frames
  // a second or more, past every server's capacity here: measured for
  // tickwire and raw uWS only, to show what happens there.
  latency: [
    ...[1000, 10_000].flatMap((rate) =>
      [10, 100].map((subs) => ({
        cfg: { subs, symbols: 10, batch: 1 },
        rate,
        servers: [...ALL, 'tickwire-frame'],
      })),
    ),
    ...[10, 100].map((subs) => ({
      cfg: { subs, symbols: 10, batch: 1 },
      rate: 50_000,
      servers: TURN,
    })),
    // What a journal adds to latency (issue 16).
    ...[1000, 10_000].map((rate) => ({
      cfg: { subs: 10, symbols: 10, batch: 1 },
      rate,
      servers: JOURNAL,
    })),
  ],
};

export const QUICK = {
  name: 'quick',
  reps: 1,
  floorCount: 5000,
  search: { warmS: 1, probeS: 1, tolerance: 0.3, minRate: 100, maxRate: 2_000_000 },
  confirm: { warmS: 0, windowS: 2 },
  overload: { warmS: 0, windowS: 2, maxDrainMs: 2000 },
  fixed: { warmS: 1, windowS: 2 },
  latencyPlan: { warmS: 1, windowS: 2 },
  capacity: [
    { cfg: { subs: 100, symbols: 10, batch: 1 }, servers: [...TURN, 'ws-json'] },
    { cfg: { subs: 100, symbols: 10, batch: 100 }, servers: PAIR },
  ],
  overloadOf: [{ cfg: { subs: 100, symbols: 10, batch: 1 }, servers: TURN }],
  cost: [{ cfg: { subs: 100, symbols: 10, batch: 100 }, rate: 20_000, servers: PAIR }],
  latency: [{ cfg: { subs: 10, symbols: 10, batch: 1 }, rate: 10_000, servers: TURN }],
};

/** The fixed load `bench:check` compares tickwire and raw uWS at. */
export const CHECK = {
  cfg: { subs: 100, symbols: 10, batch: 100 },
  rate: 20_000,
  reps: 3,
  plan: { warmS: 3, windowS: 5 },
};
