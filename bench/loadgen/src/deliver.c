#include "deliver.h"

#include "feed.h"
#include "jscan.h"
#include "mpwalk.h"
#include "socketio.h"

deliver_state run_dlv;

static void on_tick(void *ctx, const tick_fields *f) {
  conn *c = ctx;
  if (f->has & HAS_OP) {
    if (bytes_eq(f->op, f->oplen, "snapshot")) c->ready = 1;
    else if (bytes_eq(f->op, f->oplen, "error")) run_dlv.n->errors++;
    return;
  }
  if (!c->ready) {
    run_dlv.n->before_ready++;
    return;
  }
  long idx = (f->has & HAS_S) ? feed_symbol_index(f->s, f->slen, run_dlv.width, run_dlv.cfg->symbols) : -1;
  if (idx < 0) {
    run_dlv.n->unknown++;
    return;
  }
  c->delivered++;
  run_dlv.n->delivered++;
  if (c->last) {
    unsigned bit = run_dlv.cfg->peer == PEER_TICKWIRE ? HAS_N : HAS_K;
    if (f->has & bit) {
      int64_t seq = run_dlv.cfg->peer == PEER_TICKWIRE ? f->n : f->k;
      uint32_t last = c->last[idx];
      if (last != 0 && seq != (int64_t)last + 1) {
        if (seq > (int64_t)last) run_dlv.n->gaps++;
        else run_dlv.n->backwards++;
      }
      if (seq > (int64_t)last) c->last[idx] = (uint32_t)seq;
    } else
      run_dlv.n->no_seq++;
  }
  /* Latency only where it is exact: a sampled subscriber is read the moment
   * data arrives, an unsampled one may wait for a sweep (--sweep-us) before
   * its single-tick maps are walked. With --sample 0 nothing is sampled and
   * every walked update counts, as before. */
  if (!c->last && run_dlv.cfg->sample != 0) return;
  if (f->has & HAS_T) {
    if (f->t >= run_dlv.record_from_us) hist_record(run_dlv.lat, run_dlv.now_us - f->t);
  } else
    run_dlv.n->no_time++;
}

static void on_feed_reply(void *ctx, const tick_fields *f) {
  (void)ctx;
  if ((f->has & HAS_OP) && bytes_eq(f->op, f->oplen, "error")) run_dlv.n->feed_errors++;
}

/* Socket.IO: every message goes through the Engine.IO / Socket.IO client
 * (handshake, pongs); "ticks" events are walked like a ws-msgpack frame. */
static void deliver_sio(conn *c, ws_conn *w, int op, const uint8_t *p, size_t len) {
  run_counts *n = run_dlv.n;
  int sub = c->kind == K_SUB;
  if (sub) n->frames++, n->payload_bytes += len;
  /* Sampled subscribers walk every tick (order, latency); so does anyone not
   * ready yet, for before_ready. The others count from the batch's header. */
  int walk = sub && (c->last || !c->ready);
  long ticks = 0;
  int kind = sio_on_message(&c->sio, w, op, p, len, walk ? on_tick : NULL, c, &ticks);
  c->ready = c->sio.stage == SIO_READY;
  if (kind == SIO_TICKS && sub && !walk) c->delivered += (uint64_t)ticks, n->delivered += (uint64_t)ticks;
  else if (kind == SIO_BAD && sub) n->parse_errors++;
  else if (kind == SIO_CONNECT_ERROR || kind == SIO_DISCONNECT) {
    if (sub) n->errors++;
    else n->feed_errors++;
  }
}

void deliver_msg(void *ctx, ws_conn *w, int op, const uint8_t *p, size_t len) {
  conn *c = ctx;
  if (op == WS_CLOSE) return;
  if (run_dlv.cfg->peer == PEER_SOCKETIO) {
    deliver_sio(c, w, op, p, len);
    return;
  }
  if (c->kind == K_FEED) {
    if (op == WS_TEXT) js_walk_frame(p, len, on_feed_reply, c);
    else mp_walk_frame(p, len, on_feed_reply, c);
    return;
  }
  run_dlv.n->frames++;
  run_dlv.n->payload_bytes += len;
  long r;
  if (op == WS_TEXT) {
    if (run_dlv.cfg->peer != PEER_TICKWIRE && len == 5 && memcmp(p, "ready", 5) == 0) {
      c->ready = 1;
      return;
    }
    r = js_walk_frame(p, len, on_tick, c);
  } else if (c->ready && !c->last && len > 0 && ((p[0] & 0xf0) == 0x90 || p[0] == 0xdc || p[0] == 0xdd)) {
    /* Not sampled: count the updates from the array header (fixarray, array16
     * or array32: a batch of 16 or more is not a fixarray). A single map is
     * walked: it may be a control message. */
    r = mp_count_frame(p, len);
    if (r > 0) c->delivered += (uint64_t)r, run_dlv.n->delivered += (uint64_t)r;
  } else
    r = mp_walk_frame(p, len, on_tick, c);
  if (r < 0) run_dlv.n->parse_errors++;
}
