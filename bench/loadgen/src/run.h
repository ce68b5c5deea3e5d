/*
 * The load run: N subscribers and (optionally) one open-loop feed on one
 * thread and one epoll set. Prints one JSON line.
 */
#ifndef RUN_H
#define RUN_H

#include <stdint.h>

enum { PEER_TICKWIRE = 0, PEER_UWS_RAW, PEER_WS_MSGPACK, PEER_WS_JSON };

typedef struct {
  const char *host;
  int port;
  int peer;
  int json; /* tickwire: ?format=json */
  uint32_t subs;
  uint32_t sub_symbols; /* tickwire: symbols per subscriber, 0 = "*" */
  uint32_t symbols;
  uint32_t batch;
  double rate;     /* offered ticks/s; 0 = no feed */
  double duration; /* s of feeding (or of listening without a feed) */
  double warmup;   /* s at the start whose latencies are not recorded */
  uint64_t ticks;  /* feed this many ticks instead of rate x duration */
  const char *feed_token;
  const char *stream_token;
  uint32_t sample;  /* walk + order-check every K-th subscriber; others count headers */
  uint32_t read_us; /* > 0: poll sockets every read_us µs instead of waking per event */
  int spin;         /* busy-poll the clock (costs a core) */
  uint32_t spin_us; /* wake this long before each send and busy-poll the rest */
  uint32_t drain_ms;
  uint32_t connect_timeout_ms;
  uint32_t connect_parallel;
  uint32_t source_ips; /* > 1: subscribers bind to 127.0.0.1 .. 127.0.0.K in turn */
  int server_pid;      /* > 0: report this process's CPU over the window (/proc/PID/stat) */
} run_cfg;

/* 0 when the run completed (whatever its status), 1 on an error. */
int run_main(const run_cfg *cfg);

#endif
