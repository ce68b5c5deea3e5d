#include "selftest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "feed.h"
#include "hist.h"
#include "jscan.h"
#include "mpwalk.h"
#include "socketio.h"
#include "wsconn.h"

static const char *flag(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 0; i + 1 < argc; i++)
    if (strcmp(argv[i], name) == 0) return argv[i + 1];
  return dflt;
}

static uint8_t *read_stdin(size_t *len) {
  size_t cap = 1 << 16, n = 0;
  uint8_t *p = malloc(cap);
  for (;;) {
    if (!p) return NULL;
    if (n == cap) p = realloc(p, cap *= 2);
    if (!p) return NULL;
    size_t r = fread(p + n, 1, cap - n, stdin);
    if (r == 0) break;
    n += r;
  }
  *len = n;
  return p;
}

/* Output of one pass, kept in memory to compare passes. */
typedef struct {
  char *p;
  size_t len, cap;
} text;

static void out(text *t, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (t->p && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    t->cap = (t->cap + (size_t)n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    if (!t->p) exit(2);
  }
}

static void out_bytes(text *t, const char *key, const uint8_t *p, uint32_t len) {
  out(t, ",\"%s\":\"", key);
  for (uint32_t i = 0; i < len; i++) {
    if (p[i] == '"' || p[i] == '\\' || p[i] < 0x20 || p[i] >= 0x7f) out(t, "\\u%04x", p[i]);
    else out(t, "%c", p[i]);
  }
  out(t, "\"");
}

static void emit_tick(void *ctx, const tick_fields *f) {
  text *t = ctx;
  out(t, "{\"map\":true");
  if (f->has & HAS_S) out_bytes(t, "s", f->s, f->slen);
  if (f->has & HAS_OP) out_bytes(t, "op", f->op, f->oplen);
  if (f->has & HAS_N) out(t, ",\"n\":%lld", (long long)f->n);
  if (f->has & HAS_K) out(t, ",\"k\":%lld", (long long)f->k);
  if (f->has & HAS_T) out(t, ",\"t\":%lld", (long long)f->t);
  out(t, "}\n");
}

/* Where a pass's messages go: the plain walkers, or the Socket.IO client. */
typedef struct {
  text *t;
  int sio;        /* 1: through sio_on_message */
  int count_only; /* sio: count ticks from the batch's header (fn NULL) */
  sio_state st;
} sink;

static void emit_msg(void *ctx, ws_conn *c, int op, const uint8_t *p, size_t len) {
  sink *s = ctx;
  text *t = s->t;
  if (op == WS_CLOSE) {
    out(t, "{\"close\":%u}\n", c->close_code);
    return;
  }
  if (s->sio) {
    long ticks = 0;
    int kind = sio_on_message(&s->st, c, op, p, len, s->count_only ? NULL : emit_tick, t, &ticks);
    out(t, "{\"sio\":\"%s\",\"stage\":%d,\"ticks\":%ld}\n", sio_kind_name(kind), s->st.stage, ticks);
    return;
  }
  long maps = op == WS_TEXT ? js_walk_frame(p, len, emit_tick, t) : mp_walk_frame(p, len, emit_tick, t);
  long count = op == WS_TEXT ? -1 : mp_count_frame(p, len);
  out(t, "{\"frame\":\"%s\",\"len\":%zu,\"maps\":%ld,\"count\":%ld}\n", op == WS_TEXT ? "text" : "binary", len, maps,
      count);
}

typedef struct {
  const uint8_t *p;
  size_t len, off;
} mem_src;

static ssize_t mem_read(void *src, uint8_t *dst, size_t cap) {
  mem_src *m = src;
  if (m->off >= m->len) return errno = EAGAIN, -1;
  size_t n = m->len - m->off < cap ? m->len - m->off : cap;
  memcpy(dst, m->p + m->off, n);
  m->off += n;
  return (ssize_t)n;
}

/* The frames the client queued (masked, as sent), unmasked: text as text,
 * binary as hex. */
static void out_sent(text *t, const ws_conn *c) {
  const uint8_t *b = c->out + c->out_off;
  size_t len = ws_pending(c), at = 0;
  while (len - at >= 6) {
    size_t plen = b[at + 1] & 0x7f, h = 2;
    if (plen == 126) plen = (size_t)b[at + 2] << 8 | b[at + 3], h = 4;
    if (plen == 127 || at + h + 4 + plen > len) break; /* the client sends no such frame */
    const uint8_t *mask = b + at + h, *p = mask + 4;
    int op = b[at] & 0x0f;
    out(t, "{\"sent\":\"%s\",\"%s\":\"", op == WS_TEXT ? "text" : op == WS_BINARY ? "binary" : "other",
        op == WS_TEXT ? "data" : "hex");
    for (size_t i = 0; i < plen; i++) {
      uint8_t v = p[i] ^ mask[i & 3];
      if (op != WS_TEXT) out(t, "%02x", v);
      else if (v == '"' || v == '\\' || v < 0x20 || v >= 0x7f) out(t, "\\u%04x", v);
      else out(t, "%c", v);
    }
    out(t, "\"}\n");
    at += h + 4 + plen;
  }
}

/* One pass over the input cut at the given offsets (cuts ascending, ncuts may be 0). */
static void pass(const uint8_t *in, size_t len, int handshake, const size_t *cuts, size_t ncuts, size_t every,
                 text *t, const sink *proto) {
  ws_conn c;
  sink s = *proto;
  s.t = t;
  ws_init(&c, -1, !handshake);
  size_t at = 0, ci = 0;
  int r = 1;
  while (at < len && r > 0) {
    size_t end = every ? at + every : (ci < ncuts ? cuts[ci++] : len);
    if (end > len) end = len;
    mem_src m = {in + at, end - at, 0};
    while (m.off < m.len && r > 0) r = ws_read(&c, mem_read, &m, emit_msg, &s);
    at = end;
  }
  if (s.sio) out_sent(t, &c);
  out(t, "{\"end\":true,\"state\":%d,\"http_status\":%d,\"fragments\":%llu,\"rx\":%llu,\"carried\":%zu}\n", c.state,
      c.http_status, (unsigned long long)c.fragments, (unsigned long long)c.rx_bytes, c.carry_len);
  ws_free(&c);
}

static int frames_test(int argc, char **argv, int sio) {
  sink proto = {.sio = sio};
  if (sio) {
    proto.st.join = strcmp(flag(argc, argv, "--role", "sub"), "feed") != 0;
    for (int i = 0; i < argc; i++) proto.count_only |= strcmp(argv[i], "--count") == 0;
  }
  size_t len;
  uint8_t *in = read_stdin(&len);
  if (!in) return 2;
  int handshake = len >= 5 && memcmp(in, "HTTP/", 5) == 0;
  const char *splits = flag(argc, argv, "--splits", "all");
  size_t step = strcmp(splits, "all") == 0 ? 1 : strncmp(splits, "step:", 5) == 0 ? strtoul(splits + 5, NULL, 10) : 0;
  text base = {0}, t = {0};
  pass(in, len, handshake, NULL, 0, 0, &base, &proto);
  fwrite(base.p, 1, base.len, stdout);
  unsigned long runs = 0, mismatches = 0;
  long first_bad = -1;
  if (step > 0) {
    for (size_t k = step; k < len; k += step) { /* two pieces, cut at k */
      t.len = 0;
      pass(in, len, handshake, &k, 1, 0, &t, &proto);
      runs++;
      if (t.len != base.len || memcmp(t.p, base.p, t.len) != 0) {
        mismatches++;
        if (first_bad < 0) first_bad = (long)k;
      }
    }
    static const size_t chunk[] = {1, 2, 3, 7, 13, 100, 4097};
    for (size_t i = 0; i < sizeof chunk / sizeof *chunk; i++) { /* many small reads */
      t.len = 0;
      pass(in, len, handshake, NULL, 0, chunk[i], &t, &proto);
      runs++;
      if (t.len != base.len || memcmp(t.p, base.p, t.len) != 0) {
        mismatches++;
        if (first_bad < 0) first_bad = -(long)chunk[i] - 1;
      }
    }
  }
  printf("{\"selftest\":\"frames\",\"bytes\":%zu,\"runs\":%lu,\"mismatches\":%lu,\"first_mismatch\":%ld}\n", len, runs,
         mismatches, first_bad);
  free(base.p);
  free(t.p);
  free(in);
  return 0;
}

static int hist_test(void) {
  static hist h;
  hist_init(&h);
  long long v;
  while (scanf("%lld", &v) == 1) hist_record(&h, v);
  static const double ps[] = {0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
  printf("{\"count\":%llu,\"min\":%lld,\"max\":%lld,\"mean\":%.3f,\"negative\":%llu,\"percentiles\":{",
         (unsigned long long)h.total, (long long)(h.total ? h.min : 0), (long long)h.max,
         h.total ? h.sum / (double)h.total : 0.0, (unsigned long long)h.negative);
  for (size_t i = 0; i < sizeof ps / sizeof *ps; i++)
    printf("%s\"%g\":%lld", i ? "," : "", ps[i], (long long)hist_percentile(&h, ps[i]));
  printf("}}\n");
  return 0;
}

static int feed_test(int argc, char **argv) {
  feed_frames f;
  uint8_t mask[4] = {0x12, 0x34, 0x56, 0x78};
  uint32_t batch = (uint32_t)strtoul(flag(argc, argv, "--batch", "1"), NULL, 10);
  uint32_t symbols = (uint32_t)strtoul(flag(argc, argv, "--symbols", "10"), NULL, 10);
  const char *format = flag(argc, argv, "--format", "msgpack");
  int fmt = strcmp(format, "json") == 0 ? FEED_JSON : strcmp(format, "socketio") == 0 ? FEED_SOCKETIO : FEED_MSGPACK;
  uint64_t frames = strtoull(flag(argc, argv, "--frames", "3"), NULL, 10);
  long long t0 = strtoll(flag(argc, argv, "--t0", "1700000000000000"), NULL, 10);
  long long step = strtoll(flag(argc, argv, "--step-us", "1000"), NULL, 10);
  uint32_t pad = (uint32_t)strtoul(flag(argc, argv, "--pad", "0"), NULL, 10);
  if (batch == 0 || symbols == 0 || feed_frames_init(&f, batch, symbols, fmt, mask, pad) < 0) return 2;
  for (uint64_t j = 0; j < frames; j++) {
    feed_frames_fill(&f, j * batch, t0 + (long long)j * step);
    for (size_t i = 0; i < f.len; i++) printf("%02x", f.frame[i]);
    printf("\n");
  }
  feed_frames_free(&f);
  return 0;
}

int selftest_main(int argc, char **argv) {
  if (argc < 1) return fprintf(stderr, "selftest frames|sio|hist|feed\n"), 2;
  if (strcmp(argv[0], "frames") == 0) return frames_test(argc, argv, 0);
  if (strcmp(argv[0], "sio") == 0) return frames_test(argc, argv, 1);
  if (strcmp(argv[0], "hist") == 0) return hist_test();
  if (strcmp(argv[0], "feed") == 0) return feed_test(argc, argv);
  return fprintf(stderr, "selftest frames|sio|hist|feed\n"), 2;
}
