#include "feed.h"

#include <stdio.h>
#include <stdlib.h>

#include "socketio.h"
#include "wsconn.h"

#define T_WIDTH 17 /* JSON: t right-aligned in 17 characters (µs since 1970: 16 digits) */
#define K_WIDTH 10

uint32_t feed_symbol_width(uint32_t symbols) {
  uint32_t w = 1;
  for (uint32_t v = symbols > 0 ? symbols - 1 : 0; v >= 10; v /= 10) w++;
  return w;
}

void feed_symbol_name(char *buf, uint32_t index, uint32_t width) {
  snprintf(buf, width + 2, "S%0*u", (int)width, index);
}

/* Growable byte string for building the template once. */
typedef struct {
  uint8_t *p;
  size_t len, cap;
} bytes;

static int put(bytes *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    while (cap < b->len + n) cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

static int puts_(bytes *b, const char *s) { return put(b, s, strlen(s)); }

static int put_msgpack_tick(bytes *b, feed_frames *f, uint32_t i) {
  char name[16];
  feed_symbol_name(name, 0, f->width);
  uint8_t h[3] = {f->pad ? 0x86 : 0x85, 0xa1, 's'};
  uint8_t sl = (uint8_t)(0xa0 | (f->width + 1));
  /* p = 100.25 as float64; q = 1 */
  static const uint8_t p[] = {0xa1, 'p', 0xcb, 0x40, 0x59, 0x10, 0, 0, 0, 0, 0, 0xa1, 'q', 0x01};
  static const uint8_t t[] = {0xa1, 't', 0xcf, 0, 0, 0, 0, 0, 0, 0, 0};
  static const uint8_t k[] = {0xa1, 'k', 0xce, 0, 0, 0, 0};
  if (put(b, h, 3) || put(b, &sl, 1)) return -1;
  f->sym_off[i] = (uint32_t)b->len + 1;
  if (put(b, name, f->width + 1) || put(b, p, sizeof p)) return -1;
  f->t_off[i] = (uint32_t)b->len + 3;
  if (put(b, t, sizeof t)) return -1;
  f->k_off[i] = (uint32_t)b->len + 3;
  if (put(b, k, sizeof k)) return -1;
  if (f->pad == 0) return 0;
  uint8_t x[FEED_PAD_MAX] = {0xa1, 'x', (uint8_t)(0xa0 | (f->pad - 3))};
  memset(x + 3, '.', f->pad - 3);
  return put(b, x, f->pad);
}

static int put_json_tick(bytes *b, feed_frames *f, uint32_t i) {
  char name[16];
  feed_symbol_name(name, 0, f->width);
  if (puts_(b, "{\"s\":\"")) return -1;
  f->sym_off[i] = (uint32_t)b->len + 1;
  if (put(b, name, f->width + 1) || puts_(b, "\",\"p\":100.25,\"q\":1,\"t\":")) return -1;
  f->t_off[i] = (uint32_t)b->len;
  if (puts_(b, "                 ,\"k\":")) return -1;
  f->k_off[i] = (uint32_t)b->len;
  return puts_(b, "          }");
}

int feed_frames_init(feed_frames *f, uint32_t batch, uint32_t symbols, int format, const uint8_t mask[4],
                     uint32_t pad) {
  int json = format == FEED_JSON, sio = format == FEED_SOCKETIO;
  memset(f, 0, sizeof *f);
  if (pad != 0 && (json || sio || pad < 3 || pad > FEED_PAD_MAX)) return -1;
  f->pad = pad;
  f->batch = batch;
  f->symbols = symbols;
  f->width = feed_symbol_width(symbols);
  f->json = json;
  memcpy(f->mask, mask, 4);
  f->sym_off = calloc(batch, sizeof *f->sym_off);
  f->t_off = calloc(batch, sizeof *f->t_off);
  f->k_off = calloc(batch, sizeof *f->k_off);
  if (!f->sym_off || !f->t_off || !f->k_off || f->width > 10) return -1;
  bytes b = {0};
  int err = 0;
  if (json) {
    if (batch > 1) err |= put(&b, "[", 1);
    for (uint32_t i = 0; i < batch && !err; i++) {
      if (i > 0) err |= put(&b, ",", 1);
      err |= put_json_tick(&b, f, i);
    }
    if (batch > 1) err |= put(&b, "]", 1);
  } else {
    if (sio) { /* the EVENT's head; the peer's handler wants an array, even of one tick */
      uint8_t head[64];
      err |= put(&b, head, sio_event_head(head, "ticks", 1, -1));
    }
    if ((batch > 1 || sio) && batch < 16) {
      uint8_t a = (uint8_t)(0x90 | batch);
      err |= put(&b, &a, 1);
    } else if (batch > 1 || sio) {
      uint8_t a[3] = {0xdc, (uint8_t)(batch >> 8), (uint8_t)batch};
      err |= put(&b, a, 3);
    }
    for (uint32_t i = 0; i < batch && !err; i++) err |= put_msgpack_tick(&b, f, i);
  }
  if (err) return free(b.p), -1;
  uint8_t hdr[14];
  f->hdr = ws_client_header(hdr, json ? WS_TEXT : WS_BINARY, b.len, mask);
  f->len = f->hdr + b.len;
  f->frame = malloc(f->len);
  if (!f->frame) return free(b.p), -1;
  memcpy(f->frame, hdr, f->hdr);
  for (size_t i = 0; i < b.len; i++) f->frame[f->hdr + i] = b.p[i] ^ mask[i & 3];
  free(b.p);
  return 0;
}

void feed_frames_free(feed_frames *f) {
  free(f->frame);
  free(f->sym_off);
  free(f->t_off);
  free(f->k_off);
  f->frame = NULL;
}

/* Writes one payload byte, masked. */
static inline void poke(feed_frames *f, size_t off, uint8_t v) {
  f->frame[f->hdr + off] = v ^ f->mask[off & 3];
}

/* Right-aligned decimal of v in `width` bytes at off, spaces in front. */
static void poke_dec(feed_frames *f, size_t off, uint64_t v, uint32_t width) {
  for (uint32_t i = width; i-- > 0;) {
    poke(f, off + i, (v || i == width - 1) ? (uint8_t)('0' + v % 10) : ' ');
    v /= 10;
  }
}

void feed_frames_fill(feed_frames *f, uint64_t first, int64_t t_us) {
  uint64_t t = t_us < 0 ? 0 : (uint64_t)t_us;
  for (uint32_t i = 0; i < f->batch; i++) {
    uint64_t g = first + i;
    uint32_t sym = (uint32_t)(g % f->symbols);
    uint64_t k = g / f->symbols + 1;
    for (uint32_t d = f->width, v = sym; d-- > 0; v /= 10) poke(f, f->sym_off[i] + d, (uint8_t)('0' + v % 10));
    if (f->json) {
      poke_dec(f, f->t_off[i], t, T_WIDTH);
      poke_dec(f, f->k_off[i], k, K_WIDTH);
    } else {
      for (int b = 0; b < 8; b++) poke(f, f->t_off[i] + (size_t)b, (uint8_t)(t >> (56 - 8 * b)));
      for (int b = 0; b < 4; b++) poke(f, f->k_off[i] + (size_t)b, (uint8_t)(k >> (24 - 8 * b)));
    }
  }
}
