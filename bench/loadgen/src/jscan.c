#include "jscan.h"

#include <stdlib.h>

static inline size_t ws(const uint8_t *p, size_t len, size_t at) {
  while (at < len && (p[at] == ' ' || p[at] == '\t' || p[at] == '\n' || p[at] == '\r')) at++;
  return at;
}

/* A string starting at the quote at *pos: its raw bytes (escapes left as
 * they are). 0, or -1 if unterminated. */
static int scan_str(const uint8_t *p, size_t len, size_t *pos, const uint8_t **s, uint32_t *slen) {
  size_t at = *pos + 1;
  size_t start = at;
  while (at < len && p[at] != '"') at += p[at] == '\\' ? 2 : 1;
  if (at >= len) return -1;
  *s = p + start;
  *slen = (uint32_t)(at - start);
  *pos = at + 1;
  return 0;
}

/* Skips one value. 0, or -1 on a fault. */
static int skip(const uint8_t *p, size_t len, size_t *pos) {
  size_t at = ws(p, len, *pos);
  if (at >= len) return -1;
  uint8_t c = p[at];
  if (c == '"') {
    const uint8_t *s;
    uint32_t l;
    if (scan_str(p, len, &at, &s, &l) < 0) return -1;
  } else if (c == '{' || c == '[') {
    long depth = 0;
    do {
      c = p[at];
      if (c == '"') {
        const uint8_t *s;
        uint32_t l;
        if (scan_str(p, len, &at, &s, &l) < 0) return -1;
        continue;
      }
      if (c == '{' || c == '[') depth++;
      else if (c == '}' || c == ']') depth--;
      at++;
    } while (depth > 0 && at < len);
    if (depth != 0) return -1;
  } else { /* number or literal: up to a delimiter */
    size_t start = at;
    while (at < len && p[at] != ',' && p[at] != '}' && p[at] != ']' && p[at] != ' ' &&
           p[at] != '\n' && p[at] != '\r' && p[at] != '\t')
      at++;
    if (at == start) return -1;
  }
  *pos = at;
  return 0;
}

/* A number as an integer (fraction truncated): 1, 0 if not a number
 * (skipped), -1 on a fault. */
static int read_int(const uint8_t *p, size_t len, size_t *pos, int64_t *out) {
  size_t at = ws(p, len, *pos);
  if (at >= len) return -1;
  size_t start = at;
  int neg = 0;
  if (p[at] == '-') neg = 1, at++;
  if (at >= len || p[at] < '0' || p[at] > '9') {
    *pos = start;
    return skip(p, len, pos) < 0 ? -1 : 0;
  }
  uint64_t v = 0;
  while (at < len && p[at] >= '0' && p[at] <= '9') v = v * 10 + (uint64_t)(p[at++] - '0');
  if (at < len && (p[at] == '.' || p[at] == 'e' || p[at] == 'E')) {
    /* Rare (a float the peer wrote, 1.7e+15): strtod on a bounded copy. */
    char tmp[64];
    size_t end = at;
    while (end < len && end - start < sizeof tmp - 1 &&
           ((p[end] >= '0' && p[end] <= '9') || p[end] == '.' || p[end] == 'e' || p[end] == 'E' ||
            p[end] == '+' || p[end] == '-'))
      end++;
    memcpy(tmp, p + start, end - start);
    tmp[end - start] = 0;
    double d = strtod(tmp, NULL);
    *pos = end;
    if (!(d > -9.2e18 && d < 9.2e18)) return 0;
    *out = (int64_t)d;
    return 1;
  }
  *out = neg ? -(int64_t)v : (int64_t)v;
  *pos = at;
  return 1;
}

/* Walks one object whose '{' is at *pos. 0, or -1 on a fault. */
static int walk_obj(const uint8_t *p, size_t len, size_t *pos, tick_fields *f) {
  size_t at = ws(p, len, *pos + 1);
  f->has = 0;
  if (at < len && p[at] == '}') {
    *pos = at + 1;
    return 0;
  }
  for (;;) {
    const uint8_t *key;
    uint32_t klen;
    if (at >= len || p[at] != '"' || scan_str(p, len, &at, &key, &klen) < 0) return -1;
    at = ws(p, len, at);
    if (at >= len || p[at] != ':') return -1;
    at++;
    int64_t *slot = NULL;
    unsigned bit = 0;
    if (klen == 1 && key[0] == 's') {
      at = ws(p, len, at);
      if (at < len && p[at] == '"') {
        if (scan_str(p, len, &at, &f->s, &f->slen) < 0) return -1;
        f->has |= HAS_S;
      } else if (skip(p, len, &at) < 0)
        return -1;
    } else if (klen == 2 && key[0] == 'o' && key[1] == 'p') {
      at = ws(p, len, at);
      f->oplen = 0;
      if (at < len && p[at] == '"') {
        if (scan_str(p, len, &at, &f->op, &f->oplen) < 0) return -1;
      } else if (skip(p, len, &at) < 0)
        return -1;
      f->has |= HAS_OP;
    } else {
      if (klen == 1 && key[0] == 'n') slot = &f->n, bit = HAS_N;
      else if (klen == 1 && key[0] == 'k') slot = &f->k, bit = HAS_K;
      else if (klen == 1 && key[0] == 't') slot = &f->t, bit = HAS_T;
      if (slot) {
        int r = read_int(p, len, &at, slot);
        if (r < 0) return -1;
        if (r == 1) f->has |= bit;
      } else if (skip(p, len, &at) < 0)
        return -1;
    }
    at = ws(p, len, at);
    if (at >= len) return -1;
    if (p[at] == '}') {
      *pos = at + 1;
      return 0;
    }
    if (p[at] != ',') return -1;
    at = ws(p, len, at + 1);
  }
}

long js_walk_frame(const uint8_t *p, size_t len, tick_fn fn, void *ctx) {
  size_t at = ws(p, len, 0);
  tick_fields f;
  long objs = 0;
  if (at >= len) return -1;
  if (p[at] == '{') {
    if (walk_obj(p, len, &at, &f) < 0) return -1;
    if (ws(p, len, at) != len) return -1;
    fn(ctx, &f);
    return 1;
  }
  if (p[at] != '[') return -1;
  at = ws(p, len, at + 1);
  if (at < len && p[at] == ']') return ws(p, len, at + 1) == len ? 0 : -1;
  for (;;) {
    if (at >= len) return -1;
    if (p[at] == '{') {
      if (walk_obj(p, len, &at, &f) < 0) return -1;
      fn(ctx, &f);
      objs++;
    } else if (skip(p, len, &at) < 0)
      return -1;
    at = ws(p, len, at);
    if (at >= len) return -1;
    if (p[at] == ']') break;
    if (p[at] != ',') return -1;
    at = ws(p, len, at + 1);
  }
  return ws(p, len, at + 1) == len ? objs : -1;
}
