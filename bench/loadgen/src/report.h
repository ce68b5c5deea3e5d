/* The run's counters and its one-line JSON report. */
#ifndef REPORT_H
#define REPORT_H

#include <stdint.h>

#include "hist.h"
#include "run.h"

typedef struct {
  uint64_t sent_ticks, sent_frames;
  uint64_t delivered; /* updates of the run's symbols received after ready */
  uint64_t frames, payload_bytes;
  uint64_t gaps, backwards; /* sequence jumps forward / repeats or steps back */
  uint64_t parse_errors, unknown, no_seq, no_time, before_ready, errors, feed_errors;
  uint32_t closed, connected, sampled;
  uint16_t first_close_code;
  uint8_t feed_closed;
} run_counts;

typedef struct {
  const run_cfg *cfg;
  const hist *lat, *lag;
  const run_counts *counts;
  uint64_t expected;
  double connect_s, feed_s, wall, user, sys;
  double win_wall, win_user, win_sys; /* from the first frame due to the end of the drain */
  double server_cpu_s; /* the server's CPU over the window, -1 if not asked or unreadable */
  const char *failure;
} report;

/* A run whose loader used more than this share of its core measured itself. */
#define LOADER_BOUND_SHARE 0.70

void report_print(const report *r);
/* Writes {"p50":…,"p99":…,"p999":…,"max":…} and more for a histogram. */
void report_hist(const char *name, const hist *h);

#endif
