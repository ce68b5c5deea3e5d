#include "hist.h"

#include <math.h>
#include <string.h>

#define HIST_MAXV ((1LL << HIST_MAX_EXP) - 1)

void hist_init(hist *h) {
  memset(h, 0, sizeof *h);
  h->min = INT64_MAX;
}

int hist_index(int64_t v) {
  if (v < HIST_SUB) return (int)v;
  int e = 63 - __builtin_clzll((unsigned long long)v); /* e >= HIST_SUB_BITS */
  int shift = e - HIST_SUB_BITS;
  int m = (int)(v >> shift); /* HIST_SUB .. 2*HIST_SUB-1 */
  return HIST_SUB + shift * HIST_SUB + (m - HIST_SUB);
}

int64_t hist_upper(int idx) {
  if (idx < HIST_SUB) return idx;
  int shift = (idx - HIST_SUB) / HIST_SUB;
  int64_t m = HIST_SUB + (idx - HIST_SUB) % HIST_SUB;
  return ((m + 1) << shift) - 1;
}

void hist_record(hist *h, int64_t v) {
  if (v < 0) {
    h->negative++;
    v = 0;
  }
  if (v > HIST_MAXV) v = HIST_MAXV;
  h->counts[hist_index(v)]++;
  h->total++;
  h->sum += (double)v;
  if (v < h->min) h->min = v;
  if (v > h->max) h->max = v;
}

int64_t hist_percentile(const hist *h, double p) {
  if (h->total == 0) return 0;
  if (p <= 0) return h->min;
  /* The epsilon keeps 99.9% of 1000 at rank 999 (0.999 * 1000 is 999.0000000000001). */
  uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->total - 1e-9);
  if (rank < 1) rank = 1;
  if (rank > h->total) rank = h->total;
  uint64_t seen = 0;
  for (int i = 0; i < HIST_BUCKETS; i++) {
    seen += h->counts[i];
    if (seen >= rank) {
      int64_t u = hist_upper(i);
      return u > h->max ? h->max : u;
    }
  }
  return h->max;
}
