/**
 * Every option of the server, once: the Config it builds and the table
 * (flag, TICKWIRE_* variable, kind, bounds, help) that drives parsing,
 * validation and `--help` in config.ts. An option is added here, in both.
 */
export interface Config {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /**
   * Port of the plain health listener (health-listener.ts) on the same host;
   * undefined: none. 0 picks a free port.
   */
  readonly healthPort: number | undefined;
  readonly feedToken: string;
  /** True when no feed token was given and one was generated. */
  readonly feedTokenGenerated: boolean;
  /** Undefined: subscribing is open. */
  readonly streamToken: string | undefined;
  /** Undefined: the admin routes (load test) answer 503 admin_disabled. */
  readonly adminToken: string | undefined;
  readonly demo: boolean;
  readonly demoRate: number;
  readonly demoSymbols: number;
  readonly maxFeedFrame: number;
  readonly maxStreamFrame: number;
  readonly maxBackpressure: number;
  readonly maxSymbols: number;
  readonly maxSubscriptions: number;
  readonly idleTimeoutS: number;
  readonly latencyWindow: number;
  readonly allowUwsFallback: boolean;
  /** Queued bytes past which a subscriber gets conflated delivery. */
  readonly conflateAt: number;
  /** Seconds a subscriber may stay above conflateAt without draining before it is closed. */
  readonly stallTimeoutS: number;
  /** Most open WebSocket connections (all routes); 0: unlimited. */
  readonly maxConnections: number;
  /** Most open WebSocket connections from one IP address; 0: unlimited. */
  readonly maxConnectionsPerIp: number;
  /** Ticks per second one feed connection may send (token bucket, 1 s burst); 0: unlimited. */
  readonly feedRate: number;
  /** Subscribe/unsubscribe tokens per second per /stream connection (token bucket); 0: unlimited. */
  readonly controlRate: number;
  /** Tokens a /stream connection starts with and may hold (its burst). */
  readonly controlBurst: number;
  /** Origins allowed to open /stream and /stats/stream (no Origin is always allowed); undefined: any. */
  readonly allowedOrigins: readonly string[] | undefined;
  /** Seconds SIGTERM waits for queued data to reach subscribers before closing. */
  readonly drainTimeoutS: number;
  /** Updates kept per symbol for `since` recovery; 0 keeps the last value, as 1 does. */
  readonly history: number;
  /** Bytes the history of all symbols may hold; the oldest updates are evicted first. */
  readonly historyBytes: number;
  /** When updates go out: one frame per topic per event-loop turn, or per feed frame. */
  readonly coalesce: 'turn' | 'frame';
  /** NATS server URL(s), comma-separated; undefined: the embedded bus. */
  readonly nats: string | undefined;
  /** Replicas of the JetStream stream when tickwire creates it (NATS cluster size, up to 5). */
  readonly natsReplicas: number;
  /** Batches the JetStream stream keeps per symbol (never fewer than --history). */
  readonly natsRetain: number;
  /** The JetStream stream's disk bound in bytes (oldest batches go first). */
  readonly natsMaxBytes: number;
  /** Bytes of ticks waiting to be stored in JetStream past which feeds get rate_limited. */
  readonly natsMaxPending: number;
  /** Directory of the journal (docs/journal.md); undefined: no journal. */
  readonly journal: string | undefined;
  /** When the journal syncs to disk, and so what a feed's ack means. */
  readonly journalSync: 'always' | 'interval' | 'never';
  /** Bytes the journal may hold; the oldest closed segments are deleted first. */
  readonly journalMaxBytes: number;
  /** Seconds after which closed journal segments are deleted. */
  readonly journalMaxAgeS: number;
  /** Processes to start sharing the port (main.ts forks them). */
  readonly workers: number;
}

type Kind = 'string' | 'int' | 'bool';

export interface OptionSpec {
  readonly key: keyof Config;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  /** A comma-separated list: a config file may give it as an array of strings. */
  readonly list?: boolean;
  readonly min?: number;
  readonly max?: number;
  /** A string option's only values. */
  readonly oneOf?: readonly string[];
  readonly help: string;
}

export const OPTIONS: readonly OptionSpec[] = Object.freeze([
  {
    key: 'host',
    flag: 'host',
    env: 'TICKWIRE_HOST',
    kind: 'string',
    help: 'address to listen on (default 0.0.0.0)',
  },
  {
    key: 'port',
    flag: 'port',
    env: 'TICKWIRE_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    help: 'port (default 8080; 0 picks a free port)',
  },
  {
    key: 'healthPort',
    flag: 'health-port',
    env: 'TICKWIRE_HEALTH_PORT',
    kind: 'int',
    min: 0,
    max: 65535,
    help: "also serve /healthz and /readyz (GET, HEAD, OPTIONS; / is /readyz) on this port, plain node:http, for HTTP/1.0 probes such as HAProxy's default check (default: off)",
  },
  {
    key: 'feedToken',
    flag: 'feed-token',
    env: 'TICKWIRE_FEED_TOKEN',
    kind: 'string',
    help: 'token feeds must present (default: generated and printed)',
  },
  {
    key: 'streamToken',
    flag: 'stream-token',
    env: 'TICKWIRE_STREAM_TOKEN',
    kind: 'string',
    help: 'token subscribers must present (default: none, open)',
  },
  {
    key: 'adminToken',
    flag: 'admin-token',
    env: 'TICKWIRE_ADMIN_TOKEN',
    kind: 'string',
    help: 'token for the admin routes, e.g. the dashboard load test (default: none, disabled)',
  },
  {
    key: 'demo',
    flag: 'demo',
    env: 'TICKWIRE_DEMO',
    kind: 'bool',
    help: 'run the built-in synthetic feed',
  },
  {
    key: 'demoRate',
    flag: 'demo-rate',
    env: 'TICKWIRE_DEMO_RATE',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    help: 'demo ticks per second (default 2000)',
  },
  {
    key: 'demoSymbols',
    flag: 'demo-symbols',
    env: 'TICKWIRE_DEMO_SYMBOLS',
    kind: 'int',
    min: 1,
    max: 10_000,
    help: 'demo symbols (default 40)',
  },
  {
    key: 'maxFeedFrame',
    flag: 'max-feed-frame',
    env: 'TICKWIRE_MAX_FEED_FRAME',
    kind: 'int',
    min: 64,
    max: 64 * 1024 * 1024,
    help: 'largest frame on /feed in bytes (default 1048576)',
  },
  {
    key: 'maxStreamFrame',
    flag: 'max-stream-frame',
    env: 'TICKWIRE_MAX_STREAM_FRAME',
    kind: 'int',
    min: 64,
    max: 16 * 1024 * 1024,
    help: 'largest frame on /stream in bytes (default 16384)',
  },
  {
    key: 'maxBackpressure',
    flag: 'max-backpressure',
    env: 'TICKWIRE_MAX_BACKPRESSURE',
    kind: 'int',
    min: 1024,
    max: 1024 * 1024 * 1024,
    help: "bytes queued for one subscriber, or of a feed's unread replies, before it is closed as slow_consumer (default 4194304)",
  },
  {
    key: 'maxSymbols',
    flag: 'max-symbols',
    env: 'TICKWIRE_MAX_SYMBOLS',
    kind: 'int',
    min: 1,
    max: 10_000_000,
    help: 'most distinct symbols (default 100000)',
  },
  {
    key: 'maxSubscriptions',
    flag: 'max-subscriptions',
    env: 'TICKWIRE_MAX_SUBSCRIPTIONS',
    kind: 'int',
    min: 1,
    max: 10_000_000,
    help: 'most subscriptions per connection (default 10000)',
  },
  {
    key: 'idleTimeoutS',
    flag: 'idle-timeout',
    env: 'TICKWIRE_IDLE_TIMEOUT',
    kind: 'int',
    min: 8,
    max: 960,
    help: 'seconds of silence before a connection is closed; pings are sent automatically (default 120)',
  },
  {
    key: 'latencyWindow',
    flag: 'latency-window',
    env: 'TICKWIRE_LATENCY_WINDOW',
    kind: 'int',
    min: 16,
    max: 16 * 1024 * 1024,
    help: 'latency samples kept for percentiles (default 65536)',
  },
  {
    key: 'allowUwsFallback',
    flag: 'allow-uws-fallback',
    env: 'TICKWIRE_ALLOW_UWS_FALLBACK',
    kind: 'bool',
    help: "start on uWS's JS emulation, which only UWS_USE_FALLBACK=1 selects: HTTP diagnostics only (no /feed, /stream; /readyz 503); no effect without it",
  },
  {
    key: 'conflateAt',
    flag: 'conflate-at',
    env: 'TICKWIRE_CONFLATE_AT',
    kind: 'int',
    min: 1024,
    max: 1024 * 1024 * 1024,
    help: 'bytes queued for one subscriber before it gets only the latest update per symbol (default 262144)',
  },
  {
    key: 'stallTimeoutS',
    flag: 'stall-timeout',
    env: 'TICKWIRE_STALL_TIMEOUT',
    kind: 'int',
    min: 1,
    max: 3600,
    help: 'seconds a conflated subscriber may go without draining before it is closed (default 10)',
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'TICKWIRE_MAX_CONNECTIONS',
    kind: 'int',
    min: 0,
    max: 10_000_000,
    help: 'most open WebSocket connections, 0 = unlimited (default 10000); more get HTTP 503',
  },
  {
    key: 'maxConnectionsPerIp',
    flag: 'max-connections-per-ip',
    env: 'TICKWIRE_MAX_CONNECTIONS_PER_IP',
    kind: 'int',
    min: 0,
    max: 10_000_000,
    help: 'most open WebSocket connections from one IP, 0 = unlimited (default 1000); more get HTTP 429',
  },
  {
    key: 'feedRate',
    flag: 'feed-rate',
    env: 'TICKWIRE_FEED_RATE',
    kind: 'int',
    min: 0,
    max: 100_000_000,
    help: 'ticks per second one feed may send, 0 = unlimited (default 1000000); more get rate_limited',
  },
  {
    key: 'controlRate',
    flag: 'control-rate',
    env: 'TICKWIRE_CONTROL_RATE',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    help: 'subscribe/unsubscribe tokens per second per /stream connection, 0 = unlimited (default 20)',
  },
  {
    key: 'controlBurst',
    flag: 'control-burst',
    env: 'TICKWIRE_CONTROL_BURST',
    kind: 'int',
    min: 1,
    max: 1_000_000,
    help: 'tokens a /stream connection starts with and may hold (default 200)',
  },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'TICKWIRE_ALLOWED_ORIGINS',
    kind: 'string',
    list: true,
    help: "comma-separated Origin values (scheme://host[:port]) allowed to open /stream and /stats/stream, others get 403; handshakes without Origin (non-browser clients) are always allowed; list the server's own origin for the dashboard (default: any)",
  },
  {
    key: 'drainTimeoutS',
    flag: 'drain-timeout',
    env: 'TICKWIRE_DRAIN_TIMEOUT',
    kind: 'int',
    min: 0,
    max: 3600,
    help: 'seconds SIGTERM waits for queued updates to reach subscribers (default 10)',
  },
  {
    key: 'history',
    flag: 'history',
    env: 'TICKWIRE_HISTORY',
    kind: 'int',
    min: 0,
    max: 1_000_000,
    help: 'updates kept per symbol for recovery with `since`; 0 or 1 = the last value only (default 100)',
  },
  {
    key: 'historyBytes',
    flag: 'history-bytes',
    env: 'TICKWIRE_HISTORY_BYTES',
    kind: 'int',
    min: 1024 * 1024,
    max: 2 ** 40,
    help: 'bytes of history kept across all symbols, oldest updates evicted first (default 268435456)',
  },
  {
    key: 'coalesce',
    flag: 'coalesce',
    env: 'TICKWIRE_COALESCE',
    kind: 'string',
    oneOf: ['turn', 'frame'],
    help: 'turn: the updates of one event-loop turn go out as one frame per topic, so a turn costs one send per subscriber however many feed frames it read; frame: one frame per topic per feed frame, as before 0.3 (default turn)',
  },
  {
    key: 'journal',
    flag: 'journal',
    env: 'TICKWIRE_JOURNAL',
    kind: 'string',
    help: 'directory of the journal: every update is appended there and, on start, last values, history and numbering are rebuilt from it (default: none; not with --nats, where JetStream keeps them)',
  },
  {
    key: 'journalSync',
    flag: 'journal-sync',
    env: 'TICKWIRE_JOURNAL_SYNC',
    kind: 'string',
    oneOf: ['always', 'interval', 'never'],
    help: "always: a feed's ack waits until its updates are synced to disk; interval: synced every 100 ms, acks once written to the OS (a crash of the process loses nothing acked, of the machine up to 100 ms); never: the OS decides (default interval)",
  },
  {
    key: 'journalMaxBytes',
    flag: 'journal-max-bytes',
    env: 'TICKWIRE_JOURNAL_MAX_BYTES',
    kind: 'int',
    min: 1024 * 1024,
    max: 2 ** 50,
    help: 'bytes the journal may hold, oldest segments (64 MiB each) deleted first (default 1073741824)',
  },
  {
    key: 'journalMaxAgeS',
    flag: 'journal-max-age',
    env: 'TICKWIRE_JOURNAL_MAX_AGE',
    kind: 'int',
    min: 1,
    max: 10 * 365 * 86400,
    help: 'seconds a closed journal segment is kept after a newer one started (default 86400)',
  },
  {
    key: 'nats',
    flag: 'nats',
    env: 'TICKWIRE_NATS',
    kind: 'string',
    list: true,
    help: 'NATS server URL(s), comma-separated (default: none, the embedded bus)',
  },
  {
    key: 'natsReplicas',
    flag: 'nats-replicas',
    env: 'TICKWIRE_NATS_REPLICAS',
    kind: 'int',
    min: 1,
    max: 5,
    help: 'replicas of the JetStream stream when tickwire creates it (default 1; 3 on a 3-node cluster)',
  },
  {
    key: 'natsRetain',
    flag: 'nats-retain',
    env: 'TICKWIRE_NATS_RETAIN',
    kind: 'int',
    min: 1,
    max: 100_000_000,
    help: 'batches the JetStream stream keeps per symbol, at least --history (default 10000)',
  },
  {
    key: 'natsMaxBytes',
    flag: 'nats-max-bytes',
    env: 'TICKWIRE_NATS_MAX_BYTES',
    kind: 'int',
    min: 1024 * 1024,
    max: 2 ** 50,
    help: 'disk bound of the JetStream stream in bytes, oldest batches dropped first (default 1073741824)',
  },
  {
    key: 'natsMaxPending',
    flag: 'nats-max-pending',
    env: 'TICKWIRE_NATS_MAX_PENDING',
    kind: 'int',
    min: 1024 * 1024,
    max: 2 ** 40,
    help: 'bytes of ticks waiting for JetStream past which feeds get rate_limited (default 268435456)',
  },
  {
    key: 'workers',
    flag: 'workers',
    env: 'TICKWIRE_WORKERS',
    kind: 'int',
    min: 1,
    max: 256,
    help: 'processes sharing the port (default 1; more than 1 requires --nats)',
  },
] satisfies OptionSpec[]);
