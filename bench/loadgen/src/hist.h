/*
 * A log-linear latency histogram (HDR-style): values below 128 µs are exact,
 * above that each power of two is cut into 128 linear buckets, so a reported
 * percentile is at most 1/128 (0.8%) above the true value. Fixed size (35 KB),
 * recording is a few integer ops, never allocates.
 */
#ifndef HIST_H
#define HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_EXP 40 /* values are clamped below 2^40 µs (12.7 days) */
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

typedef struct {
  uint64_t counts[HIST_BUCKETS];
  uint64_t total;
  uint64_t negative; /* values below 0 (recorded as 0): clock trouble */
  int64_t min;
  int64_t max;
  double sum;
} hist;

void hist_init(hist *h);
void hist_record(hist *h, int64_t v);
/* The value at percentile p (0..100): the upper bound of the bucket holding
 * the ceil(p/100 * total)-th smallest value, never above max. 0 when empty. */
int64_t hist_percentile(const hist *h, double p);
/* Bucket index and bounds, exposed for the self-test. */
int hist_index(int64_t v);
int64_t hist_upper(int idx);

#endif
