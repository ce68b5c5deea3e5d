/*
 * tickwire-loadgen: shared definitions (clocks, the fields pulled out of one
 * update, small helpers). Everything here is allocation-free and inline.
 */
#ifndef LG_H
#define LG_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* the build passes -D_GNU_SOURCE; sched_setaffinity, getrandom */
#endif
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static inline int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline int64_t real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Pins this process to one CPU (cpu < 0: leaves it free). */
static inline int pin_cpu(int cpu) {
  if (cpu < 0) return 0;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

/* Bits of tick_fields.has. */
enum { HAS_S = 1, HAS_N = 2, HAS_K = 4, HAS_T = 8, HAS_OP = 16 };

/*
 * What a walker finds in one map (an update, or a control message when it has
 * `op`). Pointers point into the frame being walked: valid during the callback.
 */
typedef struct {
  const uint8_t *s; /* symbol bytes */
  const uint8_t *op;
  uint32_t slen;
  uint32_t oplen;
  int64_t n; /* server sequence (tickwire) */
  int64_t k; /* the feed's own per-symbol sequence (peers forward it) */
  int64_t t; /* intended send time, µs since the epoch */
  unsigned has;
} tick_fields;

typedef void (*tick_fn)(void *ctx, const tick_fields *f);

static inline int bytes_eq(const uint8_t *p, uint32_t len, const char *lit) {
  size_t l = strlen(lit);
  return len == l && memcmp(p, lit, l) == 0;
}

#endif
