#include "wsconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* One read buffer shared by every connection (single thread). */
#define SCRATCH (256u << 10)
/* A carried tail shorter than this is copied in front of the next read; a
 * longer one (a big frame arriving in pieces) is completed in place. */
#define SMALL_CARRY 4096u
#define MAX_HANDSHAKE 8192u
static uint8_t scratch[SCRATCH];

void ws_init(ws_conn *c, int fd, int open) {
  memset(c, 0, sizeof *c);
  c->fd = fd;
  c->state = open ? WS_OPEN : WS_HANDSHAKE;
  if (getrandom(c->mask, 4, 0) != 4) memcpy(c->mask, "\x37\xfa\x21\x3d", 4);
}

void ws_free(ws_conn *c) {
  free(c->carry);
  free(c->out);
  c->carry = c->out = NULL;
  c->carry_len = c->carry_cap = c->out_len = c->out_off = c->out_cap = 0;
}

static int reserve(uint8_t **buf, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  size_t n = *cap ? *cap : 256;
  while (n < need) n *= 2;
  uint8_t *p = realloc(*buf, n);
  if (!p) return -1;
  *buf = p;
  *cap = n;
  return 0;
}

static int queue(ws_conn *c, const uint8_t *p, size_t len) {
  if (c->out_off > 0 && c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (reserve(&c->out, &c->out_cap, c->out_len + len) < 0) return -1;
  memcpy(c->out + c->out_len, p, len);
  c->out_len += len;
  return 0;
}

int ws_flush(ws_conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 1;
      if (errno == EINTR) continue;
      return -1;
    }
    c->out_off += (size_t)w;
  }
  c->out_off = c->out_len = 0;
  return 0;
}

int ws_write(ws_conn *c, const uint8_t *p, size_t len) {
  if (c->fd < 0) return queue(c, p, len); /* self-test: no socket */
  if (ws_pending(c) > 0) return queue(c, p, len); /* keep order behind earlier bytes */
  while (len > 0) {
    ssize_t w = send(c->fd, p, len, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return len ? queue(c, p, len) : 0;
}

int ws_request(ws_conn *c, const char *host, int port, const char *path, const char *auth) {
  /* The key is fixed: the loader does not check Sec-WebSocket-Accept (the
   * server is under test for speed, not for its handshake). */
  size_t cap = strlen(path) + (auth ? strlen(auth) : 0) + 512;
  char *req = malloc(cap);
  if (!req) return -1;
  int n = snprintf(req, cap,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                   "%s%s%s\r\n",
                   path, host, port, auth ? "Authorization: Bearer " : "", auth ? auth : "",
                   auth ? "\r\n" : "");
  int r = n > 0 && (size_t)n < cap ? ws_write(c, (const uint8_t *)req, (size_t)n) : -1;
  free(req);
  return r;
}

size_t ws_client_header(uint8_t *h, int opcode, uint64_t len, const uint8_t mask[4]) {
  size_t n;
  h[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    h[1] = (uint8_t)(0x80 | len);
    n = 2;
  } else if (len <= 0xffff) {
    h[1] = 0x80 | 126;
    h[2] = (uint8_t)(len >> 8);
    h[3] = (uint8_t)len;
    n = 4;
  } else {
    h[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) h[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  memcpy(h + n, mask, 4);
  return n + 4;
}

int ws_send_frame(ws_conn *c, int opcode, const uint8_t *p, size_t len) {
  uint8_t f[14 + 125];
  if (len > 125) return -1;
  size_t h = ws_client_header(f, opcode, len, c->mask);
  for (size_t i = 0; i < len; i++) f[h + i] = p[i] ^ c->mask[i & 3];
  return ws_write(c, f, h + len);
}

ssize_t ws_recv(void *src, uint8_t *dst, size_t cap) {
  ws_conn *c = src;
  ssize_t r;
  do r = recv(c->fd, dst, cap, 0);
  while (r < 0 && errno == EINTR);
  return r;
}

static void fail(ws_conn *c) { c->state = WS_FAILED; }

/* The upgrade response at the start of buf: bytes it takes, 0 if incomplete. */
static size_t handshake(ws_conn *c, const uint8_t *buf, size_t len) {
  for (size_t i = 3; i < len; i++) {
    if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
      int status = 0;
      if (len >= 12 && memcmp(buf, "HTTP/1.1 ", 9) == 0)
        status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
      c->http_status = status;
      if (status == 101) c->state = WS_OPEN;
      else fail(c);
      return i + 1;
    }
  }
  if (len > MAX_HANDSHAKE) fail(c);
  return 0;
}

/* Length of the frame at buf (header + payload) if its header is complete,
 * else 0. Marks the connection failed on a frame the loader refuses. */
static uint64_t frame_size(ws_conn *c, const uint8_t *b, size_t len, size_t *hl) {
  if (len < 2) return 0;
  uint64_t plen = b[1] & 0x7f;
  size_t h = 2;
  if (plen == 126) {
    if (len < 4) return 0;
    plen = (uint64_t)b[2] << 8 | b[3];
    h = 4;
  } else if (plen == 127) {
    if (len < 10) return 0;
    plen = 0;
    for (int i = 0; i < 8; i++) plen = plen << 8 | b[2 + i];
    h = 10;
  }
  if ((b[1] & 0x80) || (b[0] & 0x70) || plen > WS_MAX_FRAME) { /* masked, RSV bits, too big */
    fail(c);
    return 0;
  }
  *hl = h;
  return h + plen;
}

/* Parses what buf holds: bytes taken (complete frames), the rest is a partial frame. */
static size_t consume(ws_conn *c, const uint8_t *buf, size_t len, ws_msg_fn fn, void *ctx) {
  size_t at = 0;
  if (c->state == WS_HANDSHAKE) {
    at = handshake(c, buf, len);
    if (at == 0 || c->state != WS_OPEN) return c->state == WS_FAILED ? len : 0;
  }
  while (c->state == WS_OPEN) {
    size_t hl = 0;
    uint64_t size = frame_size(c, buf + at, len - at, &hl);
    if (size == 0 || size > len - at) break;
    const uint8_t *p = buf + at + hl;
    size_t plen = (size_t)size - hl;
    int op = buf[at] & 0x0f, fin = buf[at] & 0x80;
    switch (op) {
      case WS_TEXT:
      case WS_BINARY:
        if (fin) fn(ctx, c, op, p, plen);
        else c->in_fragment = 1, c->fragments++;
        break;
      case WS_CONT:
        c->fragments++;
        if (fin) c->in_fragment = 0;
        break;
      case WS_CLOSE:
        c->close_code = plen >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : 1005;
        c->state = WS_CLOSED;
        fn(ctx, c, op, p, plen);
        break;
      case WS_PING:
        if (ws_send_frame(c, WS_PONG, p, plen) < 0) fail(c);
        break;
      default: /* pong */
        break;
    }
    at += (size_t)size;
  }
  return c->state == WS_FAILED ? len : at;
}

/* Bytes needed to complete the carried partial frame (0: not known yet). */
static uint64_t carried_need(ws_conn *c) {
  size_t hl;
  if (c->state != WS_OPEN) return 0;
  return frame_size(c, c->carry, c->carry_len, &hl);
}

static int keep_tail(ws_conn *c, const uint8_t *p, size_t len) {
  if (reserve(&c->carry, &c->carry_cap, len) < 0) return -1;
  memmove(c->carry, p, len);
  c->carry_len = len;
  return 0;
}

int ws_read(ws_conn *c, ws_reader rd, void *src, ws_msg_fn fn, void *ctx) {
  for (;;) {
    if (c->state == WS_FAILED) return -1;
    if (c->state == WS_CLOSED) return 0;
    uint64_t need = c->carry_len ? carried_need(c) : 0;
    if (c->state == WS_FAILED) return -1;
    if (need > 0 && (c->carry_len >= SMALL_CARRY || need > SCRATCH / 2)) {
      /* A big frame arriving in pieces: read the rest of it straight into
       * the carry, then parse it there (no copy of what is already held). */
      if (reserve(&c->carry, &c->carry_cap, (size_t)need) < 0) return -1;
      size_t want = (size_t)need - c->carry_len;
      ssize_t r = rd(src, c->carry + c->carry_len, want);
      if (r <= 0) return r == 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
      c->rx_bytes += (uint64_t)r;
      c->carry_len += (size_t)r;
      if (c->carry_len < need) return 1; /* short read: nothing more for now */
      size_t used = consume(c, c->carry, c->carry_len, fn, ctx);
      c->carry_len -= used; /* consumes the whole frame: carry_len is 0 now */
      continue;
    }
    /* The usual case: the small carried tail in front, then read into scratch. */
    size_t have = c->carry_len;
    if (have) memcpy(scratch, c->carry, have);
    ssize_t r = rd(src, scratch + have, SCRATCH - have);
    if (r <= 0) return r == 0 ? 0 : (errno == EAGAIN || errno == EWOULDBLOCK) ? 1 : -1;
    c->rx_bytes += (uint64_t)r;
    size_t total = have + (size_t)r;
    c->carry_len = 0;
    size_t used = consume(c, scratch, total, fn, ctx);
    if (used < total && keep_tail(c, scratch + used, total - used) < 0) return -1;
    if ((size_t)r < SCRATCH - have) return c->state == WS_FAILED ? -1 : c->state == WS_CLOSED ? 0 : 1;
  }
}
