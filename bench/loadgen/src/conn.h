/* One connection of a run: a subscriber, the feed, or the timer's tag. */
#ifndef CONN_H
#define CONN_H

#include "socketio.h"
#include "wsconn.h"

enum { K_SUB = 0, K_FEED = 1, K_TIMER = 2 };

typedef struct {
  ws_conn ws;
  uint8_t kind;
  uint8_t connected;
  uint8_t ready;
  uint8_t gone;
  uint8_t want_out;
  uint8_t swept; /* --sweep-us: read in timed sweeps, not on wake-up (no EPOLLIN) */
  uint32_t index;
  uint32_t *last; /* per-symbol last sequence (sampled subscribers), else NULL */
  uint64_t delivered;
  sio_state sio; /* --peer socketio: the Engine.IO / Socket.IO handshake */
} conn;

#endif
