#include "socketio.h"

#include "mpwalk.h"

/* Socket.IO packet types (socket.io-protocol v5). 5 and 6 (binary
 * attachments) are never sent by socket.io-msgpack-parser. */
enum { P_CONNECT = 0, P_DISCONNECT = 1, P_EVENT = 2, P_ACK = 3, P_CONNECT_ERROR = 4 };

/* What event_data found. */
enum { EV_OTHER = 0, EV_TICKS = 1, EV_COUNTED = 2 };

/*
 * The data of an EVENT at *pos, [name, arg, …]. For "ticks" the first
 * argument (the batch) is walked with fn, or with fn NULL only its header is
 * read and the parse stops there (EV_COUNTED: the caller must not look
 * further). Other arguments and other events are skipped. -1 on a fault.
 */
static int event_data(const uint8_t *p, size_t len, size_t *pos, tick_fn fn, void *ctx, long *ticks) {
  uint64_t n, count;
  const uint8_t *name;
  uint32_t nlen;
  if (mp_array_header(p, len, pos, &n) != 1 || n == 0) return -1;
  if (mp_read_str(p, len, pos, &name, &nlen) != 1) return -1; /* the event name is a string */
  n--;
  int is_ticks = n >= 1 && bytes_eq(name, nlen, "ticks");
  if (is_ticks) {
    if (!fn) {
      int r = mp_array_header(p, len, pos, &count);
      if (r == 0 && mp_map_header(p, len, pos, &count) == 1) count = 1; /* a lone tick */
      else if (r != 1) return -1;
      if (count > len - *pos) return -1; /* each element takes a byte at least */
      *ticks = (long)count;
      return EV_COUNTED;
    }
    long m = mp_walk_value(p, len, pos, fn, ctx);
    if (m < 0) return -1;
    *ticks = m;
    n--;
  }
  for (; n > 0; n--)
    if (mp_skip(p, len, pos) < 0) return -1;
  return is_ticks ? EV_TICKS : EV_OTHER;
}

/*
 * One binary Socket.IO packet, a map {type, nsp, data?, id?} in any key
 * order. Returns its type, or -1 when malformed (or not for namespace "/").
 * *ev: the event_data result for an EVENT, else -1. The data of an EVENT is
 * walked where it stands when `type` came first (socket.io's encoder writes
 * type, data, nsp), else after the map, from its recorded position.
 */
static int packet(const uint8_t *p, size_t len, tick_fn fn, void *ctx, long *ticks, int64_t *id, int *ev) {
  size_t pos = 0, data_at = 0; /* data_at: 1 + the data's offset, 0 if none */
  uint64_t n;
  int64_t type = -1;
  int nsp_ok = 0;
  *id = -1;
  *ev = -1;
  if (mp_map_header(p, len, &pos, &n) != 1) return -1;
  for (uint64_t i = 0; i < n; i++) {
    const uint8_t *k, *s;
    uint32_t kl, sl;
    int r = mp_read_str(p, len, &pos, &k, &kl);
    if (r < 0) return -1;
    if (r == 0) { /* a key that is not a string: skip it and its value */
      if (mp_skip(p, len, &pos) < 0 || mp_skip(p, len, &pos) < 0) return -1;
      continue;
    }
    if (bytes_eq(k, kl, "type")) {
      if (mp_read_int(p, len, &pos, &type) != 1) return -1;
    } else if (bytes_eq(k, kl, "nsp")) {
      if (mp_read_str(p, len, &pos, &s, &sl) != 1) return -1;
      nsp_ok = bytes_eq(s, sl, "/");
    } else if (bytes_eq(k, kl, "id")) {
      if (mp_read_int(p, len, &pos, id) != 1) return -1;
    } else if (bytes_eq(k, kl, "data") && type == P_EVENT && *ev < 0) {
      data_at = pos + 1;
      *ev = event_data(p, len, &pos, fn, ctx, ticks);
      if (*ev < 0) return -1;
      if (*ev == EV_COUNTED) return P_EVENT; /* counted from the header: trusted */
    } else {
      if (bytes_eq(k, kl, "data")) data_at = pos + 1;
      if (mp_skip(p, len, &pos) < 0) return -1;
    }
  }
  if (pos != len || !nsp_ok || type < P_CONNECT || type > P_CONNECT_ERROR) return -1;
  if (type == P_EVENT && *ev < 0) { /* data came before type */
    if (!data_at) return -1;
    pos = data_at - 1;
    *ev = event_data(p, len, &pos, fn, ctx, ticks);
    if (*ev < 0) return -1;
  }
  return (int)type;
}

/* Small client frames (CONNECT, subscribe, pong) go out masked through the
 * connection's queue; a failed write fails the connection as wsconn does. */
static void send_small(ws_conn *w, int opcode, const uint8_t *p, size_t n) {
  if (ws_send_frame(w, opcode, p, n) < 0) w->state = WS_FAILED;
}

int sio_on_message(sio_state *st, ws_conn *w, int op, const uint8_t *p, size_t len, tick_fn fn, void *ctx,
                   long *ticks) {
  *ticks = 0;
  if (op == WS_TEXT) {
    if (len == 0) return SIO_BAD;
    switch (p[0]) {
      case '0':
        if (st->stage == SIO_WAIT_OPEN) {
          /* CONNECT to "/" as the msgpack parser encodes it: {type: 0, nsp: "/"} */
          static const uint8_t connect[] = {0x82, 0xa4, 't', 'y', 'p', 'e', 0x00, 0xa3, 'n', 's', 'p', 0xa1, '/'};
          send_small(w, WS_BINARY, connect, sizeof connect);
          st->stage = SIO_WAIT_CONNECT;
        }
        return SIO_OPEN;
      case '2': {
        /* The pong echoes the ping's data (Engine.IO: "probe" during an
         * upgrade; plain pings carry none). */
        uint8_t pong[125];
        if (len > sizeof pong) return SIO_BAD;
        pong[0] = '3';
        memcpy(pong + 1, p + 1, len - 1);
        send_small(w, WS_TEXT, pong, len);
        return SIO_PING;
      }
      case '1':
        return SIO_CLOSE;
      case '3': case '5': case '6':
        return SIO_ENGINE;
      default: /* '4' + text: a Socket.IO packet in text, not what the msgpack parser sends */
        return SIO_BAD;
    }
  }
  if (op != WS_BINARY) return SIO_BAD;
  int64_t id;
  int ev;
  switch (packet(p, len, fn, ctx, ticks, &id, &ev)) {
    case P_CONNECT:
      if (st->stage == SIO_WAIT_CONNECT) {
        if (st->join) {
          uint8_t b[64];
          size_t n = sio_event_head(b, "subscribe", 1, SIO_JOIN_ID);
          static const uint8_t all[] = {0x91, 0xa3, 'a', 'l', 'l'}; /* ["all"] */
          memcpy(b + n, all, sizeof all);
          send_small(w, WS_BINARY, b, n + sizeof all);
          st->stage = SIO_WAIT_ACK;
        } else
          st->stage = SIO_READY;
      }
      return SIO_CONNECT;
    case P_ACK:
      if (st->stage == SIO_WAIT_ACK && id == SIO_JOIN_ID) st->stage = SIO_READY;
      return SIO_ACK;
    case P_EVENT:
      return ev == EV_OTHER ? SIO_EVENT : SIO_TICKS;
    case P_DISCONNECT:
      return SIO_DISCONNECT;
    case P_CONNECT_ERROR:
      return SIO_CONNECT_ERROR;
    default:
      return SIO_BAD;
  }
}

const char *sio_kind_name(int kind) {
  static const char *names[SIO_KINDS] = {"open",  "ping",  "engine",        "close",      "connect", "ack",
                                         "ticks", "event", "connect_error", "disconnect", "bad"};
  return kind >= 0 && kind < SIO_KINDS ? names[kind] : "?";
}

size_t sio_event_head(uint8_t *b, const char *event, uint32_t nargs, int64_t ack_id) {
  static const uint8_t type_nsp[] = {0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/'};
  static const uint8_t id_key[] = {0xa2, 'i', 'd'};
  static const uint8_t data_key[] = {0xa4, 'd', 'a', 't', 'a'};
  size_t n = 0, el = strlen(event);
  b[n++] = ack_id >= 0 ? 0x84 : 0x83; /* a fixmap of 3 or 4 entries */
  memcpy(b + n, type_nsp, sizeof type_nsp);
  n += sizeof type_nsp;
  if (ack_id >= 0) {
    memcpy(b + n, id_key, sizeof id_key);
    n += sizeof id_key;
    if (ack_id < 128) b[n++] = (uint8_t)ack_id; /* fixint, as notepack writes it */
    else {
      b[n++] = 0xce; /* uint32 */
      for (int i = 3; i >= 0; i--) b[n++] = (uint8_t)((uint64_t)ack_id >> (8 * i));
    }
  }
  memcpy(b + n, data_key, sizeof data_key);
  n += sizeof data_key;
  b[n++] = (uint8_t)(0x90 | (1 + nargs)); /* [event, …args]: up to 14 arguments */
  b[n++] = (uint8_t)(0xa0 | el);          /* event names up to 31 bytes */
  memcpy(b + n, event, el);
  return n + el;
}
