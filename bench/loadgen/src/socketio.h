/*
 * A Socket.IO 4 client as bench/peers/socketio.mjs speaks it: Engine.IO v4
 * straight over a WebSocket (GET /socket.io/?EIO=4&transport=websocket, no
 * long-polling), Socket.IO packets encoded by socket.io-msgpack-parser.
 *
 * On the wire (checked against the real server):
 *  - Engine.IO control packets are text frames: the server opens with
 *    `0{"sid":…,"pingInterval":25000,"pingTimeout":20000,…}` and pings with
 *    `2` every pingInterval; a client that does not answer `3` (pong) within
 *    pingTimeout is dropped.
 *  - Every Socket.IO packet is one binary frame holding one MessagePack map
 *    {type, nsp, data?, id?} (type 0 CONNECT, 1 DISCONNECT, 2 EVENT, 3 ACK,
 *    4 CONNECT_ERROR), with no Engine.IO `4` prefix (binary frames are
 *    Engine.IO messages as they are). The text form `40` is not understood
 *    by the msgpack parser: the server closes the connection. So the client's
 *    CONNECT is the binary map {type: 0, nsp: "/"}.
 *  - An update frame is {type: 2, data: ["ticks", [tick, …]], nsp: "/"}.
 *
 * Handshake: OPEN -> send CONNECT -> the CONNECT reply. A subscriber then
 * joins room "all" (the room the peer broadcasts every batch to) the way a
 * real client does, `subscribe` ["all"] with an ack, and is ready at the ACK;
 * the feed is ready at the CONNECT reply.
 */
#ifndef SOCKETIO_H
#define SOCKETIO_H

#include "wsconn.h"

#define SIO_PATH "/socket.io/?EIO=4&transport=websocket"
#define SIO_JOIN_ID 1 /* ack id of the subscriber's `subscribe` */

/* Handshake stages. */
enum { SIO_WAIT_OPEN = 0, SIO_WAIT_CONNECT, SIO_WAIT_ACK, SIO_READY };

/* What one server message was. */
enum {
  SIO_OPEN = 0,      /* Engine.IO open (CONNECT sent in reply) */
  SIO_PING,          /* Engine.IO ping (pong sent) */
  SIO_ENGINE,        /* another Engine.IO packet (pong, noop, upgrade) */
  SIO_CLOSE,         /* Engine.IO close */
  SIO_CONNECT,       /* the namespace CONNECT reply */
  SIO_ACK,           /* an ACK */
  SIO_TICKS,         /* EVENT "ticks" */
  SIO_EVENT,         /* another EVENT */
  SIO_CONNECT_ERROR, /* the server refused the namespace */
  SIO_DISCONNECT,    /* the server left the namespace */
  SIO_BAD,           /* malformed, or not what socket.io-msgpack-parser sends */
  SIO_KINDS
};

typedef struct {
  uint8_t stage;
  uint8_t join; /* 1: join room "all" after connecting (subscribers) */
} sio_state;

/*
 * Handles one complete server message (a text or binary frame): answers
 * pings, drives the handshake (writing to w) and, for a "ticks" event, calls
 * fn for every tick map, or with fn NULL only reads the batch's array header
 * (the rest of the frame is not looked at: counting at high rates). *ticks is
 * the number of ticks walked or counted (0 for other messages). Returns the
 * message's kind (SIO_*). A "ticks" event whose batch is malformed returns
 * SIO_BAD, possibly after fn was called for the maps before the fault. Never
 * allocates.
 */
int sio_on_message(sio_state *st, ws_conn *w, int op, const uint8_t *p, size_t len, tick_fn fn, void *ctx,
                   long *ticks);

/* The kind's name, for the self-test. */
const char *sio_kind_name(int kind);

/*
 * Writes the MessagePack head of an EVENT packet for namespace "/":
 * {type: 2, nsp: "/", [id: ack_id,] data: [event, …]}, up to the point where
 * the nargs arguments follow (data is the map's last entry, so the caller
 * appends them). ack_id < 0: no ack. buf needs 32 + strlen(event) bytes
 * (event up to 31 bytes). Returns the bytes written.
 */
size_t sio_event_head(uint8_t *buf, const char *event, uint32_t nargs, int64_t ack_id);

#endif
