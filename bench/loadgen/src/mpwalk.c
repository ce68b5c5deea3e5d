#include "mpwalk.h"

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }

/* Skips one value (with everything nested in it). 0, or -1 on a fault. */
static int skip(const uint8_t *p, size_t len, size_t *pos) {
  size_t at = *pos;
  uint64_t pending = 1; /* values still to skip */
  while (pending > 0) {
    pending--;
    if (at >= len) return -1;
    uint8_t b = p[at];
    size_t rest = len - at;
    uint64_t body = 0; /* bytes after the type byte and its length field */
    size_t head = 1;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
    } else if (b >= 0xa0 && b <= 0xbf) body = b & 0x1f;
    else if (b >= 0x80 && b <= 0x8f) pending += 2u * (b & 0x0f);
    else if (b >= 0x90 && b <= 0x9f) pending += b & 0x0f;
    else {
      switch (b) {
        case 0xcc: case 0xd0: body = 1; break;
        case 0xcd: case 0xd1: body = 2; break;
        case 0xce: case 0xd2: case 0xca: body = 4; break;
        case 0xcf: case 0xd3: case 0xcb: body = 8; break;
        case 0xd4: body = 2; break; /* fixext 1: type + 1 */
        case 0xd5: body = 3; break;
        case 0xd6: body = 5; break;
        case 0xd7: body = 9; break;
        case 0xd8: body = 17; break;
        case 0xc4: case 0xd9:
          if (rest < 2) return -1;
          head = 2; body = p[at + 1]; break;
        case 0xc5: case 0xda:
          if (rest < 3) return -1;
          head = 3; body = be16(p + at + 1); break;
        case 0xc6: case 0xdb:
          if (rest < 5) return -1;
          head = 5; body = be32(p + at + 1); break;
        case 0xc7:
          if (rest < 2) return -1;
          head = 2; body = 1u + p[at + 1]; break;
        case 0xc8:
          if (rest < 3) return -1;
          head = 3; body = 1u + be16(p + at + 1); break;
        case 0xc9:
          if (rest < 5) return -1;
          head = 5; body = 1u + (uint64_t)be32(p + at + 1); break;
        case 0xdc:
          if (rest < 3) return -1;
          head = 3; pending += be16(p + at + 1); break;
        case 0xdd:
          if (rest < 5) return -1;
          head = 5; pending += be32(p + at + 1); break;
        case 0xde:
          if (rest < 3) return -1;
          head = 3; pending += 2u * be16(p + at + 1); break;
        case 0xdf:
          if (rest < 5) return -1;
          head = 5; pending += 2u * (uint64_t)be32(p + at + 1); break;
        default: return -1; /* 0xc1, never used */
      }
    }
    if (head + body > rest) return -1;
    at += head + (size_t)body;
    /* Every pending value takes at least one byte: a header claiming more
     * than what is left is a lie, fail now instead of looping on it. */
    if (pending > len - at) return -1;
  }
  *pos = at;
  return 0;
}

/* A string at *pos: its bytes and length; 1 if it is one, 0 if not (nothing
 * consumed), -1 on a fault. */
static int read_str(const uint8_t *p, size_t len, size_t *pos, const uint8_t **s, uint32_t *slen) {
  size_t at = *pos;
  if (at >= len) return -1;
  uint8_t b = p[at];
  size_t rest = len - at, head;
  uint64_t n;
  if (b >= 0xa0 && b <= 0xbf) {
    head = 1; n = b & 0x1f;
  } else if (b == 0xd9) {
    if (rest < 2) return -1;
    head = 2; n = p[at + 1];
  } else if (b == 0xda) {
    if (rest < 3) return -1;
    head = 3; n = be16(p + at + 1);
  } else if (b == 0xdb) {
    if (rest < 5) return -1;
    head = 5; n = be32(p + at + 1);
  } else
    return 0;
  if (head + n > rest) return -1;
  *s = p + at + head;
  *slen = (uint32_t)n;
  *pos = at + head + (size_t)n;
  return 1;
}

/* A number at *pos as an integer (floats truncated): 1 if it is one, 0 if
 * the value is something else (skipped), -1 on a fault. */
static int read_int(const uint8_t *p, size_t len, size_t *pos, int64_t *out) {
  size_t at = *pos;
  if (at >= len) return -1;
  uint8_t b = p[at];
  size_t rest = len - at;
  const uint8_t *q = p + at + 1;
  size_t w;
  if (b <= 0x7f) {
    *out = b; *pos = at + 1; return 1;
  }
  if (b >= 0xe0) {
    *out = (int8_t)b; *pos = at + 1; return 1;
  }
  switch (b) {
    case 0xcc: case 0xd0: w = 1; break;
    case 0xcd: case 0xd1: w = 2; break;
    case 0xce: case 0xd2: case 0xca: w = 4; break;
    case 0xcf: case 0xd3: case 0xcb: w = 8; break;
    default: return skip(p, len, pos) < 0 ? -1 : 0;
  }
  if (rest < 1 + w) return -1;
  switch (b) {
    case 0xcc: *out = q[0]; break;
    case 0xcd: *out = be16(q); break;
    case 0xce: *out = be32(q); break;
    case 0xcf: *out = (int64_t)be64(q); break; /* > 2^63 wraps: not a time or a sequence */
    case 0xd0: *out = (int8_t)q[0]; break;
    case 0xd1: *out = (int16_t)be16(q); break;
    case 0xd2: *out = (int32_t)be32(q); break;
    case 0xd3: *out = (int64_t)be64(q); break;
    case 0xca: {
      uint32_t u = be32(q);
      float f;
      memcpy(&f, &u, 4);
      if (!(f > -9.2e18f && f < 9.2e18f)) return *pos = at + 5, 0;
      *out = (int64_t)f;
      break;
    }
    default: { /* 0xcb: msgpackr writes integers past 2^32 as float64 */
      uint64_t u = be64(q);
      double d;
      memcpy(&d, &u, 8);
      if (!(d > -9.2e18 && d < 9.2e18)) return *pos = at + 9, 0;
      *out = (int64_t)d;
    }
  }
  *pos = at + 1 + w;
  return 1;
}

/* Walks one map at *pos into f. 0, or -1 on a fault. */
static int walk_map(const uint8_t *p, size_t len, size_t *pos, uint64_t n, tick_fields *f) {
  f->has = 0;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *key;
    uint32_t klen;
    int r = read_str(p, len, pos, &key, &klen);
    if (r < 0) return -1;
    if (r == 0) { /* a non-string key: skip it and its value */
      if (skip(p, len, pos) < 0 || skip(p, len, pos) < 0) return -1;
      continue;
    }
    unsigned bit = 0;
    int64_t *slot = NULL;
    if (klen == 1) {
      switch (key[0]) {
        case 's':
          r = read_str(p, len, pos, &f->s, &f->slen);
          if (r < 0) return -1;
          if (r == 0) {
            if (skip(p, len, pos) < 0) return -1;
          } else
            f->has |= HAS_S;
          continue;
        case 'n': bit = HAS_N; slot = &f->n; break;
        case 'k': bit = HAS_K; slot = &f->k; break;
        case 't': bit = HAS_T; slot = &f->t; break;
        default: break;
      }
    } else if (klen == 2 && key[0] == 'o' && key[1] == 'p') {
      r = read_str(p, len, pos, &f->op, &f->oplen);
      if (r < 0) return -1;
      if (r == 0 && skip(p, len, pos) < 0) return -1;
      f->has |= HAS_OP; /* a control message whatever its op's type */
      if (r == 0) f->oplen = 0;
      continue;
    }
    if (slot) {
      r = read_int(p, len, pos, slot);
      if (r < 0) return -1;
      if (r == 1) f->has |= bit;
    } else if (skip(p, len, pos) < 0)
      return -1;
  }
  return 0;
}

/* A map header at *pos: 1 with its size, 0 if not a map (nothing consumed), -1 fault. */
static int map_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n) {
  size_t at = *pos;
  if (at >= len) return -1;
  uint8_t b = p[at];
  if (b >= 0x80 && b <= 0x8f) {
    *n = b & 0x0f; *pos = at + 1; return 1;
  }
  if (b == 0xde) {
    if (len - at < 3) return -1;
    *n = be16(p + at + 1); *pos = at + 3; return 1;
  }
  if (b == 0xdf) {
    if (len - at < 5) return -1;
    *n = be32(p + at + 1); *pos = at + 5; return 1;
  }
  return 0;
}

/* An array header: 1 with its size, 0 if not an array, -1 fault. */
static int array_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n) {
  size_t at = *pos;
  if (at >= len) return -1;
  uint8_t b = p[at];
  if (b >= 0x90 && b <= 0x9f) {
    *n = b & 0x0f; *pos = at + 1; return 1;
  }
  if (b == 0xdc) {
    if (len - at < 3) return -1;
    *n = be16(p + at + 1); *pos = at + 3; return 1;
  }
  if (b == 0xdd) {
    if (len - at < 5) return -1;
    *n = be32(p + at + 1); *pos = at + 5; return 1;
  }
  return 0;
}

/* The value at *pos as updates: a map, or an array whose maps are visited.
 * whole: the value must end the input, checked before a lone map is handed
 * to fn (so a map with trailing bytes is not reported). */
static long walk_value(const uint8_t *p, size_t len, size_t *pos, int whole, tick_fn fn, void *ctx) {
  uint64_t n, m;
  tick_fields f;
  long maps = 0;
  int r = array_header(p, len, pos, &n);
  if (r < 0) return -1;
  if (r == 0) { /* a single map */
    if (map_header(p, len, pos, &m) != 1) return -1;
    if (walk_map(p, len, pos, m, &f) < 0) return -1;
    if (whole && *pos != len) return -1;
    fn(ctx, &f);
    return 1;
  }
  if (n > len - *pos) return -1;
  for (uint64_t i = 0; i < n; i++) {
    r = map_header(p, len, pos, &m);
    if (r < 0) return -1;
    if (r == 0) { /* not a map: not an update */
      if (skip(p, len, pos) < 0) return -1;
      continue;
    }
    if (walk_map(p, len, pos, m, &f) < 0) return -1;
    fn(ctx, &f);
    maps++;
  }
  return maps;
}

long mp_walk_frame(const uint8_t *p, size_t len, tick_fn fn, void *ctx) {
  size_t pos = 0;
  long maps = walk_value(p, len, &pos, 1, fn, ctx);
  return maps >= 0 && pos == len ? maps : -1;
}

long mp_walk_value(const uint8_t *p, size_t len, size_t *pos, tick_fn fn, void *ctx) {
  return walk_value(p, len, pos, 0, fn, ctx);
}

/* The building blocks, for envelopes around updates (socketio.c). Thin
 * wrappers: inside this file the static versions stay inlinable. */
int mp_skip(const uint8_t *p, size_t len, size_t *pos) { return skip(p, len, pos); }
int mp_read_str(const uint8_t *p, size_t len, size_t *pos, const uint8_t **s, uint32_t *slen) {
  return read_str(p, len, pos, s, slen);
}
int mp_read_int(const uint8_t *p, size_t len, size_t *pos, int64_t *out) { return read_int(p, len, pos, out); }
int mp_map_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n) { return map_header(p, len, pos, n); }
int mp_array_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n) { return array_header(p, len, pos, n); }

long mp_count_frame(const uint8_t *p, size_t len) {
  size_t pos = 0;
  uint64_t n;
  int r = array_header(p, len, &pos, &n);
  if (r == 1) return n <= len - pos ? (long)n : -1; /* each element is at least one byte */
  if (r == 0 && len > 0 && ((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde || p[0] == 0xdf)) return 1;
  return -1;
}
