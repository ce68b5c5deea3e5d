/*
 * A WebSocket client connection over a non-blocking socket, framed by hand.
 *
 * Why not libwebsockets: the loader's job is to cost the server, not itself.
 * Framing by hand lets a read land in one shared scratch buffer and be parsed
 * in place (no per-connection receive buffer, no per-message copy or
 * allocation: only the tail of a frame split across reads is kept, in a
 * buffer that grows once), lets the feed send pre-encoded, pre-masked frames
 * patched in place, and keeps full control of when and how much is read. A
 * library owns the read loop and hands each message over in its own buffer.
 * Server frames arrive unmasked; client frames are masked (RFC 6455 5.3).
 */
#ifndef WSCONN_H
#define WSCONN_H

#include <sys/types.h>

#include "lg.h"

enum { WS_HANDSHAKE = 0, WS_OPEN = 1, WS_CLOSED = 2, WS_FAILED = 3 };
enum { WS_CONT = 0, WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

/* Largest frame accepted from a server (tickwire sends at most a few MiB). */
#define WS_MAX_FRAME (64u << 20)

typedef struct ws_conn ws_conn;

/* A complete, unfragmented message (or a close frame, opcode WS_CLOSE). */
typedef void (*ws_msg_fn)(void *ctx, ws_conn *c, int opcode, const uint8_t *p, size_t len);

/* Reads into dst: > 0 bytes, 0 at end of stream, -1 with errno (EAGAIN: none now). */
typedef ssize_t (*ws_reader)(void *src, uint8_t *dst, size_t cap);

struct ws_conn {
  int fd;
  uint8_t state;
  uint8_t in_fragment; /* inside a fragmented message (skipped, counted) */
  uint8_t mask[4];
  uint16_t close_code;
  int http_status;    /* status line of a refused upgrade */
  uint64_t rx_bytes;  /* bytes read */
  uint64_t fragments; /* frames of fragmented messages (not parsed) */
  uint8_t *carry; /* the unparsed tail of earlier reads */
  size_t carry_len, carry_cap;
  uint8_t *out; /* bytes the socket did not take yet */
  size_t out_off, out_len, out_cap;
};

void ws_init(ws_conn *c, int fd, int open);
void ws_free(ws_conn *c);

/* Queues the upgrade request. `auth` (may be NULL) goes in a Bearer header. */
int ws_request(ws_conn *c, const char *host, int port, const char *path, const char *auth);

/* Writes bytes, keeping whatever the socket does not take: 0, or -1 on error. */
int ws_write(ws_conn *c, const uint8_t *p, size_t len);
/* Sends queued bytes: 0 when all are out, 1 when some remain, -1 on error. */
int ws_flush(ws_conn *c);
static inline size_t ws_pending(const ws_conn *c) { return c->out_len - c->out_off; }

/* Builds a masked client frame header for a payload of len bytes into hdr
 * (14 bytes max); returns its length. */
size_t ws_client_header(uint8_t *hdr, int opcode, uint64_t len, const uint8_t mask[4]);
/* Sends a small masked frame (pong, close). */
int ws_send_frame(ws_conn *c, int opcode, const uint8_t *p, size_t len);

/* Reads what `rd` has and calls fn per message. 1: read until EAGAIN or a short
 * read (call again on the next readiness), 0: end of stream, -1: error or a
 * protocol fault (state WS_FAILED). Also used by the self-test with an
 * in-memory reader, so it runs the exact code the network path runs. */
int ws_read(ws_conn *c, ws_reader rd, void *src, ws_msg_fn fn, void *ctx);

/* The socket reader for ws_read (src is the ws_conn). */
ssize_t ws_recv(void *src, uint8_t *dst, size_t cap);

#endif
