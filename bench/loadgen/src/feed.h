/*
 * The feed's frames: one frame of `batch` ticks is encoded once (MessagePack,
 * or JSON for JSON peers), wrapped in a masked client frame header and masked
 * once; each send only patches, in place and masked, the bytes that change:
 * each tick's symbol digits, its intended send time `t` (µs since the epoch)
 * and the feed's per-symbol sequence `k`. Symbols are S0..S{M-1}, zero-padded
 * to one width so every frame has the same layout; tick g of the run goes to
 * symbol g % M, so `k` of that tick is g / M + 1.
 * `pad` (MessagePack only; 0 or 3..34) adds a key "x" with a string, taking
 * exactly `pad` more bytes per tick: a relay's updates can then be as long as
 * tickwire's, which appends `n` and `r` (issue 14: bytes against server work).
 * Socket.IO: the same MessagePack ticks, always as an array, inside an EVENT
 * packet {type: 2, nsp: "/", data: ["ticks", [tick, …]]}.
 */
#ifndef FEED_H
#define FEED_H

#include "lg.h"

/* Encodings of the feed's frames. */
enum { FEED_MSGPACK = 0, FEED_JSON = 1, FEED_SOCKETIO = 2 };

typedef struct {
  uint8_t *frame; /* header + masked payload */
  size_t len;
  size_t hdr;
  uint32_t batch, symbols, width, pad;
  int json;
  uint8_t mask[4];
  uint32_t *sym_off, *t_off, *k_off; /* payload offsets, per tick */
} feed_frames;

/* Most bytes `pad` may add to a tick ("x" key 2, fixstr header 1, up to 31 characters). */
#define FEED_PAD_MAX 34

int feed_frames_init(feed_frames *f, uint32_t batch, uint32_t symbols, int format, const uint8_t mask[4],
                     uint32_t pad);
void feed_frames_free(feed_frames *f);
/* Patches the frame for ticks first..first+batch-1 of the run, all stamped t_us. */
void feed_frames_fill(feed_frames *f, uint64_t first, int64_t t_us);

/* Symbol name width for M symbols (digits of M-1). */
uint32_t feed_symbol_width(uint32_t symbols);
/* Writes S<index> zero-padded into buf (needs width+2 bytes). */
void feed_symbol_name(char *buf, uint32_t index, uint32_t width);
/* The index of a symbol name of this width, or -1. */
static inline long feed_symbol_index(const uint8_t *s, uint32_t len, uint32_t width, uint32_t symbols) {
  if (len != width + 1 || s[0] != 'S') return -1;
  uint32_t v = 0;
  for (uint32_t i = 1; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  return v < symbols ? (long)v : -1;
}

#endif
