/*
 * The load run: N subscribers and (optionally) one open-loop feed on one
 * thread and one epoll set. Prints one JSON line.
 */
#ifndef RUN_H
#define RUN_H

#include <stdint.h>

enum { PEER_TICKWIRE = 0, PEER_UWS_RAW, PEER_WS_MSGPACK, PEER_WS_JSON, PEER_SOCKETIO };

typedef struct {
  const char *host;
  int port;
  int peer;
  int json; /* tickwire: ?format=json */
  uint32_t subs;
  uint32_t sub_symbols; /* tickwire: symbols per subscriber, 0 = "*" */
  uint32_t symbols;
  uint32_t batch;
  uint32_t pad; /* --pad: bytes added to each MessagePack tick (feed.h) */
  double rate;     /* offered ticks/s; 0 = no feed */
  double duration; /* s of feeding (or of listening without a feed) */
  double warmup;   /* s at the start whose latencies are not recorded */
  uint64_t ticks;  /* feed this many ticks instead of rate x duration */
  const char *feed_token;
  const char *stream_token;
  uint32_t sample;  /* walk + order-check every K-th subscriber; others count headers */
  uint32_t read_us; /* > 0: poll sockets every read_us µs instead of waking per event */
  uint32_t sweep_us; /* > 0: unsampled subscribers are read every sweep_us µs, sampled ones on wake-up */
  int spin;         /* busy-poll the clock (costs a core) */
  uint32_t spin_us; /* wake this long before each send and busy-poll the rest */
  uint32_t drain_ms;
  uint32_t connect_timeout_ms;
  uint32_t connect_parallel;
  uint32_t source_ips; /* > 1: subscribers bind to 127.0.0.1 .. 127.0.0.K in turn */
  int server_pids[8];  /* > 0: report these processes' summed CPU over the window (/proc/PID/stat) */
  uint32_t n_server_pids;
  int feed_port;        /* > 0: the feed connects here instead of --port (two nodes on a bus) */
  uint32_t max_drain_ms; /* > 0: the drain ends after this long even while updates still arrive */
} run_cfg;

/* 0 when the run completed (whatever its status), 1 on an error. */
int run_main(const run_cfg *cfg);

#endif
