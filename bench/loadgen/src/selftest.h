/*
 * Self-tests driven from outside (test/bench/loadgen-*.test.ts): they feed
 * bytes from stdin through the very functions a run uses and print what they
 * found, so the tests check the real C code.
 *   selftest frames [--splits all|none|step:N]  server frames (optionally after
 *       the HTTP 101 response) -> one JSON line per map found, then a summary of
 *       re-running with the input split at every offset and in small chunks.
 *   selftest sio [--role sub|feed] [--count] [--splits …]  the same input
 *       through the Socket.IO client: one line per message (its kind, the
 *       handshake stage after it, ticks walked, or with --count counted from
 *       the header) and per tick map, then the frames the client sent
 *       (CONNECT, subscribe, pongs), unmasked.
 *   selftest hist        integers (µs) -> percentiles
 *   selftest feed ...    the feed's frames, as hex, for given ticks
 *       (--format msgpack|json|socketio)
 */
#ifndef SELFTEST_H
#define SELFTEST_H

int selftest_main(int argc, char **argv);

#endif
