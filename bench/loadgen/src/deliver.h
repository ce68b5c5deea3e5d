/*
 * What a run does with each message a connection receives: readiness
 * (tickwire's snapshot, a peer's "ready"), per-update counting, the
 * per-symbol order check and the latency record. No allocation.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include "conn.h"
#include "hist.h"
#include "report.h"

typedef struct {
  const run_cfg *cfg;
  uint32_t width;         /* symbol name width */
  int64_t now_us;         /* receive time of the read being parsed, µs since the epoch */
  int64_t record_from_us; /* --warmup: latencies of ticks stamped before this are not recorded */
  hist *lat;
  run_counts *n;
} deliver_state;

/* Set up by the run before the first read. */
extern deliver_state run_dlv;

/* The ws_msg_fn of every connection of a run (ctx: its conn). */
void deliver_msg(void *ctx, ws_conn *w, int op, const uint8_t *p, size_t len);

#endif
