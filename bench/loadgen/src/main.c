/*
 * tickwire-loadgen: a native load generator for tickwire and its peers.
 *   loadgen run [flags]       subscribers and/or an open-loop feed, one JSON line
 *   loadgen floor [flags]     loopback TCP ping-pong round trip, one JSON line
 *   loadgen selftest ...      parsing and histogram checks for the unit tests
 * Flags are described in bench/README.md and by `loadgen help`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "feed.h"
#include "floor.h"
#include "lg.h"
#include "run.h"
#include "selftest.h"

static const char *usage =
    "usage: loadgen run   --port P [--feed-port P] [--host 127.0.0.1] [--peer tickwire|uws-raw|ws-msgpack|ws-json|socketio]\n"
    "                     [--format msgpack|json] [--subs N] [--symbols M] [--sub-symbols K]\n"
    "                     [--rate TICKS_PER_S] [--batch B] [--pad BYTES] [--duration S | --ticks T] [--warmup S]\n"
    "                     [--feed-token T] [--stream-token T] [--sample K] [--read-us U] [--sweep-us U] [--spin | --spin-us U]\n"
    "                     [--drain-ms MS] [--max-drain-ms MS] [--connect-timeout-ms MS] [--connect-parallel N]\n"
    "                     [--source-ips K] [--server-pid PID]... [--cpu C]\n"
    "       loadgen floor [--count N] [--warmup N] [--size BYTES] [--cpu C] [--echo-cpu C] [--gap-us G]\n"
    "       loadgen selftest frames|sio|hist|feed ...\n";

static int bad(const char *name, const char *v) {
  fprintf(stderr, "loadgen: bad value for %s: %s\n%s", name, v ? v : "(missing)", usage);
  return 2;
}

/* Parses a number in [lo, hi]; 0 on success. */
static int num(const char *name, const char *v, double lo, double hi, double *out) {
  char *end;
  if (!v) return bad(name, v);
  double d = strtod(v, &end);
  if (end == v || *end || !(d >= lo && d <= hi)) return bad(name, v);
  *out = d;
  return 0;
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

static int run_cmd(int argc, char **argv) {
  run_cfg c = {.host = "127.0.0.1", .port = 0, .subs = 10, .symbols = 10, .batch = 1, .duration = 1,
               .sample = 1, .drain_ms = 2000, .connect_timeout_ms = 10000, .connect_parallel = 200};
  double d;
  int cpu = -1;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int used = 1;
    if (strcmp(a, "--host") == 0) c.host = v;
    else if (strcmp(a, "--port") == 0) {
      if (num(a, v, 1, 65535, &d)) return 2;
      c.port = (int)d;
    } else if (strcmp(a, "--peer") == 0) {
      if (!v) return bad(a, v);
      if (strcmp(v, "tickwire") == 0) c.peer = PEER_TICKWIRE;
      else if (strcmp(v, "uws-raw") == 0) c.peer = PEER_UWS_RAW;
      else if (strcmp(v, "ws-msgpack") == 0) c.peer = PEER_WS_MSGPACK;
      else if (strcmp(v, "ws-json") == 0) c.peer = PEER_WS_JSON;
      else if (strcmp(v, "socketio") == 0) c.peer = PEER_SOCKETIO;
      else return bad(a, v);
    } else if (strcmp(a, "--format") == 0) {
      if (!v || (strcmp(v, "json") && strcmp(v, "msgpack"))) return bad(a, v);
      c.json = strcmp(v, "json") == 0;
    } else if (strcmp(a, "--subs") == 0) {
      if (num(a, v, 0, 100000, &d)) return 2;
      c.subs = (uint32_t)d;
    } else if (strcmp(a, "--symbols") == 0) {
      if (num(a, v, 1, 1e9, &d)) return 2;
      c.symbols = (uint32_t)d;
    } else if (strcmp(a, "--sub-symbols") == 0) {
      if (num(a, v, 0, 100000, &d)) return 2;
      c.sub_symbols = (uint32_t)d;
    } else if (strcmp(a, "--rate") == 0) {
      if (num(a, v, 0, 1e9, &c.rate)) return 2;
    } else if (strcmp(a, "--batch") == 0) {
      if (num(a, v, 1, 4096, &d)) return 2;
      c.batch = (uint32_t)d;
    } else if (strcmp(a, "--pad") == 0) {
      if (num(a, v, 0, FEED_PAD_MAX, &d)) return 2;
      if (d != 0 && d < 3) return fprintf(stderr, "loadgen: --pad is 0 or 3..%d\n", FEED_PAD_MAX), 2;
      c.pad = (uint32_t)d;
    } else if (strcmp(a, "--duration") == 0) {
      if (num(a, v, 0, 86400, &c.duration)) return 2;
    } else if (strcmp(a, "--ticks") == 0) {
      if (num(a, v, 1, 1e15, &d)) return 2;
      c.ticks = (uint64_t)d;
    } else if (strcmp(a, "--warmup") == 0) {
      if (num(a, v, 0, 86400, &c.warmup)) return 2;
    } else if (strcmp(a, "--feed-token") == 0) c.feed_token = v;
    else if (strcmp(a, "--stream-token") == 0) c.stream_token = v;
    else if (strcmp(a, "--sample") == 0) {
      if (num(a, v, 0, 1e9, &d)) return 2;
      c.sample = (uint32_t)d;
    } else if (strcmp(a, "--read-us") == 0) {
      if (num(a, v, 0, 1e6, &d)) return 2;
      c.read_us = (uint32_t)d;
    } else if (strcmp(a, "--sweep-us") == 0) {
      if (num(a, v, 0, 1e6, &d)) return 2;
      c.sweep_us = (uint32_t)d;
    } else if (strcmp(a, "--spin-us") == 0) {
      if (num(a, v, 0, 1e6, &d)) return 2;
      c.spin_us = (uint32_t)d;
    } else if (strcmp(a, "--drain-ms") == 0) {
      if (num(a, v, 0, 600000, &d)) return 2;
      c.drain_ms = (uint32_t)d;
    } else if (strcmp(a, "--feed-port") == 0) {
      if (num(a, v, 1, 65535, &d)) return 2;
      c.feed_port = (int)d;
    } else if (strcmp(a, "--max-drain-ms") == 0) {
      if (num(a, v, 0, 3600000, &d)) return 2;
      c.max_drain_ms = (uint32_t)d;
    } else if (strcmp(a, "--connect-timeout-ms") == 0) {
      if (num(a, v, 1, 600000, &d)) return 2;
      c.connect_timeout_ms = (uint32_t)d;
    } else if (strcmp(a, "--connect-parallel") == 0) {
      if (num(a, v, 1, 100000, &d)) return 2;
      c.connect_parallel = (uint32_t)d;
    } else if (strcmp(a, "--server-pid") == 0) {
      if (num(a, v, 1, 4194304, &d)) return 2;
      if (c.n_server_pids == sizeof c.server_pids / sizeof c.server_pids[0]) return bad(a, v);
      c.server_pids[c.n_server_pids++] = (int)d;
    } else if (strcmp(a, "--source-ips") == 0) {
      if (num(a, v, 1, 254, &d)) return 2;
      c.source_ips = (uint32_t)d;
    } else if (strcmp(a, "--cpu") == 0) {
      if (num(a, v, 0, 4095, &d)) return 2;
      cpu = (int)d;
    } else if (strcmp(a, "--spin") == 0) {
      c.spin = 1;
      used = 0;
    } else {
      fprintf(stderr, "loadgen: unknown flag %s\n%s", a, usage);
      return 2;
    }
    if (used && !v) return bad(a, v);
    i += used;
  }
  if (!c.port) return bad("--port", NULL);
  if (c.peer == PEER_TICKWIRE && c.rate > 0 && !c.feed_token) return bad("--feed-token", NULL);
  if (c.peer != PEER_TICKWIRE && (c.json || c.sub_symbols)) {
    fprintf(stderr, "loadgen: --format and --sub-symbols apply to --peer tickwire only\n");
    return 2;
  }
  if (c.peer == PEER_WS_JSON) c.json = 1;
  if (c.pad && (c.json || c.peer == PEER_SOCKETIO)) {
    fprintf(stderr, "loadgen: --pad applies to MessagePack feeds only\n");
    return 2;
  }
  raise_fd_limit();
  if (pin_cpu(cpu) < 0) perror("loadgen: sched_setaffinity");
  return run_main(&c);
}

static int floor_cmd(int argc, char **argv) {
  floor_cfg c = {.count = 20000, .warmup = 1000, .size = 32, .cpu = -1, .echo_cpu = -1};
  double d;
  for (int i = 0; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--count") == 0) {
      if (num(a, v, 1, 1e8, &d)) return 2;
      c.count = (uint32_t)d;
    } else if (strcmp(a, "--warmup") == 0) {
      if (num(a, v, 0, 1e8, &d)) return 2;
      c.warmup = (uint32_t)d;
    } else if (strcmp(a, "--size") == 0) {
      if (num(a, v, 1, 1 << 20, &d)) return 2;
      c.size = (uint32_t)d;
    } else if (strcmp(a, "--cpu") == 0) {
      if (num(a, v, 0, 4095, &d)) return 2;
      c.cpu = (int)d;
    } else if (strcmp(a, "--echo-cpu") == 0) {
      if (num(a, v, 0, 4095, &d)) return 2;
      c.echo_cpu = (int)d;
    } else if (strcmp(a, "--gap-us") == 0) {
      if (num(a, v, 0, 1e7, &d)) return 2;
      c.gap_us = (uint32_t)d;
    } else {
      fprintf(stderr, "loadgen: unknown flag %s\n%s", a, usage);
      return 2;
    }
  }
  return floor_main(&c);
}

int main(int argc, char **argv) {
  if (argc < 2) return fputs(usage, stderr), 2;
  if (strcmp(argv[1], "run") == 0) return run_cmd(argc - 2, argv + 2);
  if (strcmp(argv[1], "floor") == 0) return floor_cmd(argc - 2, argv + 2);
  if (strcmp(argv[1], "selftest") == 0) return selftest_main(argc - 2, argv + 2);
  if (strcmp(argv[1], "help") == 0) return fputs(usage, stdout), 0;
  fputs(usage, stderr);
  return 2;
}
