/*
 * A minimal JSON scan for update frames on `format=json` streams and JSON
 * peers: visits each object of a frame (the frame itself, or each element of
 * a top-level array) and pulls out `s`, `n`, `k`, `t` and `op`. Other values
 * are skipped by bracket counting (strings and escapes respected), not
 * validated. Never allocates.
 */
#ifndef JSCAN_H
#define JSCAN_H

#include "lg.h"

/* Like mp_walk_frame: objects visited, or -1 on a malformed frame. */
long js_walk_frame(const uint8_t *p, size_t len, tick_fn fn, void *ctx);

#endif
