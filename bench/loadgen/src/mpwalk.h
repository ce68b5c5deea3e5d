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

/* Like mp_walk_frame for the one value at *pos (a map, or an array of maps)
 * inside a larger message; advances *pos past it. Maps visited, or -1. */
long mp_walk_value(const uint8_t *p, size_t len, size_t *pos, tick_fn fn, void *ctx);

/* Single values at *pos, advancing it (for envelopes such as Socket.IO's).
 * Each returns -1 on a malformed or truncated value. mp_read_str,
 * mp_map_header and mp_array_header return 0 (nothing consumed) when the
 * value is of another type; mp_read_int returns 0 after skipping a
 * non-number. Otherwise 1 (mp_skip: 0 on success). */
int mp_skip(const uint8_t *p, size_t len, size_t *pos);
int mp_read_str(const uint8_t *p, size_t len, size_t *pos, const uint8_t **s, uint32_t *slen);
int mp_read_int(const uint8_t *p, size_t len, size_t *pos, int64_t *out);
int mp_map_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n);
int mp_array_header(const uint8_t *p, size_t len, size_t *pos, uint64_t *n);

#endif
