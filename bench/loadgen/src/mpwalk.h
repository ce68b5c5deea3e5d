/*
 * A MessagePack walker for update frames: visits each map of a frame (the
 * frame itself, or each element of a top-level array) and pulls out only
 * `s`, `n`, `k`, `t` and `op`; every other key and value is skipped without
 * decoding. Bounds-checked on every byte (the input comes off the network),
 * iterative (no recursion on hostile nesting), never allocates.
 */
#ifndef MPWALK_H
#define MPWALK_H

#include "lg.h"

/* Calls fn for every map at the top level or in a top-level array; returns
 * the number of maps visited, or -1 when the frame is malformed, truncated or
 * has trailing bytes (fn may have been called for maps before the fault). */
long mp_walk_frame(const uint8_t *p, size_t len, tick_fn fn, void *ctx);

/* Updates in a frame from its header alone (array length, or 1 for a map);
 * -1 if the frame starts with anything else. For counting at high rates. */
long mp_count_frame(const uint8_t *p, size_t len);

#endif
