/*
 * lws-sub: a subscriber-only WebSocket client on Debian's libwebsockets
 * (4.1), built to answer one question of issue 13: does framing WebSocket by
 * hand (../src/wsconn.c) save the loader CPU compared with the library?
 *
 * What is the same as the hand-framed loader: every complete message goes to
 * the loader's own deliver_msg (../src/deliver.c) with the same run_cfg, so
 * readiness ("ready" from the peers), the MessagePack walk, the per-update
 * count and the latency record run the very same code. What differs is only
 * how bytes get from the sockets to a complete message: here lws's service
 * loop (poll(2), one thread), its per-connection rx buffer and its parser.
 *
 * Library use as in lws's own client examples: a context without a listen
 * port, one protocol whose callback receives LWS_CALLBACK_CLIENT_RECEIVE,
 * lws_client_connect_via_info() per connection, lws_service() in a loop.
 * No extensions are given to the context, so the client never offers
 * permessage-deflate (the upgrade request has no Sec-WebSocket-Extensions).
 *
 * rx buffer: --rx-buf bytes (default 64 KiB) is both the protocol's
 * rx_buffer_size and the context's pt_serv_buf_size, because lws reads at
 * most min(rx_buffer_size, pt_serv_buf_size) per read(2) and hands a
 * message over in one piece only if it fits in rx_buffer_size. 64 KiB holds
 * a 100-tick frame (~3.8 KB) with room to spare and lets one read take
 * everything a socket holds at these loads. A message that still arrives in
 * pieces is counted in `pieces` and not parsed (the run is then invalid).
 *
 * Prints one JSON line; the CPU and wall figures cover the listening window
 * only (from every subscriber ready to the end of --duration), like the
 * loader's `window`.
 *
 * Usage: lws-sub --port P [--host 127.0.0.1] [--subs 100] [--duration 10]
 *                [--symbols 10] [--sample 0] [--rx-buf 65536] [--read-us U] [--cpu C]
 *
 * --read-us U mirrors the loader's flag: sleep U µs before each lws_service()
 * so one service pass reads every socket that became ready meanwhile.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "../src/conn.h"
#include "../src/cpu.h"
#include "../src/deliver.h"
#include "../src/feed.h"
#include "../src/hist.h"
#include "../src/report.h"
#include "../src/run.h"

static struct lws_context *ctx;
static run_cfg cfg;
static run_counts counts;
static hist lat;
static conn *subs;
static uint32_t ready, closed, conn_errors;
static uint64_t pieces;
static int stop;
static lws_sorted_usec_list_t deadline;

/* Runs inside lws_service() before its poll(2); without the cancel that poll
 * would sleep until the next event or lws's own 30 s housekeeping timer. */
static void on_deadline(lws_sorted_usec_list_t *sul) {
  (void)sul;
  stop = 1;
  lws_cancel_service(ctx);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len) {
  conn *c = user; /* our conn, passed as userdata at connect time */
  switch (reason) {
    case LWS_CALLBACK_CLIENT_RECEIVE: {
      if (!lws_is_first_fragment(wsi) || !lws_is_final_fragment(wsi)) {
        /* Larger than rx_buffer_size, or fragmented: never expected here. */
        pieces++;
        return 0;
      }
      uint8_t was_ready = c->ready;
      /* The loader takes the clock once per read; lws has no per-read hook,
       * so this takes it once per message (a vDSO call, 32 ns here). */
      run_dlv.now_us = real_ns() / 1000;
      deliver_msg(c, &c->ws, lws_frame_is_binary(wsi) ? WS_BINARY : WS_TEXT, in, len);
      if (!was_ready && c->ready) ready++;
      return 0;
    }
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      fprintf(stderr, "lws-sub: connection error: %s\n", in ? (const char *)in : "(none)");
      conn_errors++;
      if (c) c->gone = 1;
      return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
      if (c && !c->gone) {
        c->gone = 1;
        closed++;
        counts.closed++;
      }
      return 0;
    default:
      return 0;
  }
}

static double arg_num(const char *flag, const char *v, double lo, double hi) {
  char *end = NULL;
  double d = v ? strtod(v, &end) : 0;
  if (!v || end == v || *end || d < lo || d > hi) {
    fprintf(stderr, "lws-sub: bad value for %s: %s\n", flag, v ? v : "(missing)");
    exit(2);
  }
  return d;
}

int main(int argc, char **argv) {
  cfg = (run_cfg){.host = "127.0.0.1", .peer = PEER_UWS_RAW, .subs = 100, .symbols = 10, .batch = 1,
                  .duration = 10, .sample = 0, .connect_timeout_ms = 10000};
  size_t rxbuf = 65536;
  int cpu = -1;
  for (int i = 1; i < argc; i += 2) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--host") == 0 && v) cfg.host = v;
    else if (strcmp(a, "--port") == 0) cfg.port = (int)arg_num(a, v, 1, 65535);
    else if (strcmp(a, "--subs") == 0) cfg.subs = (uint32_t)arg_num(a, v, 1, 100000);
    else if (strcmp(a, "--duration") == 0) cfg.duration = arg_num(a, v, 0.01, 86400);
    else if (strcmp(a, "--symbols") == 0) cfg.symbols = (uint32_t)arg_num(a, v, 1, 1000000);
    else if (strcmp(a, "--sample") == 0) cfg.sample = (uint32_t)arg_num(a, v, 0, UINT32_MAX);
    else if (strcmp(a, "--rx-buf") == 0) rxbuf = (size_t)arg_num(a, v, 1024, 16u << 20);
    else if (strcmp(a, "--cpu") == 0) cpu = (int)arg_num(a, v, 0, 4095);
    else if (strcmp(a, "--read-us") == 0) cfg.read_us = (uint32_t)arg_num(a, v, 0, 1000000);
    else {
      fprintf(stderr, "lws-sub: unknown flag %s\n", a);
      return 2;
    }
  }
  if (!cfg.port) return fprintf(stderr, "lws-sub: --port is required\n"), 2;
  if (pin_cpu(cpu) < 0) return fprintf(stderr, "lws-sub: cannot pin to CPU %d\n", cpu), 2;

  /* deliver_msg's state, as the loader's run sets it up (no warm-up cut). */
  hist_init(&lat);
  run_dlv = (deliver_state){.cfg = &cfg, .width = feed_symbol_width(cfg.symbols), .lat = &lat,
                            .n = &counts, .record_from_us = INT64_MIN};
  subs = calloc(cfg.subs, sizeof *subs);
  uint32_t sampled = 0;
  for (uint32_t i = 0; i < cfg.subs; i++)
    if (cfg.sample > 0 && i % cfg.sample == 0) sampled++;
  uint32_t *last = calloc((size_t)sampled * cfg.symbols + 1, sizeof *last);
  if (!subs || !last) return fprintf(stderr, "lws-sub: out of memory\n"), 1;
  for (uint32_t i = 0, s = 0; i < cfg.subs; i++) {
    subs[i].index = i;
    if (cfg.sample > 0 && i % cfg.sample == 0) subs[i].last = last + (size_t)(s++) * cfg.symbols;
  }

  lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
  /* per_session_data_size 0: each connection's state is our conn (userdata). */
  static struct lws_protocols prot[2];
  prot[0] = (struct lws_protocols){.name = "tickwire-sub", .callback = callback, .rx_buffer_size = rxbuf};
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN; /* client only */
  info.protocols = prot;
  info.extensions = NULL; /* no permessage-deflate offered */
  info.pt_serv_buf_size = (unsigned int)rxbuf;
  info.fd_limit_per_thread = cfg.subs + 32;
  ctx = lws_create_context(&info);
  if (!ctx) return fprintf(stderr, "lws-sub: lws_create_context failed\n"), 1;

  int64_t t_start = mono_ns();
  for (uint32_t i = 0; i < cfg.subs; i++) {
    struct lws_client_connect_info cc;
    memset(&cc, 0, sizeof cc);
    cc.context = ctx;
    cc.address = cfg.host;
    cc.port = cfg.port;
    cc.path = "/stream";
    cc.host = cfg.host;
    cc.origin = cfg.host;
    cc.protocol = NULL; /* the peers name no subprotocol */
    cc.local_protocol_name = prot[0].name;
    cc.userdata = &subs[i];
    if (!lws_client_connect_via_info(&cc)) conn_errors++;
  }
  /* Connect: until every subscriber saw "ready", or the timeout. */
  lws_sul_schedule(ctx, 0, &deadline, on_deadline, (lws_usec_t)cfg.connect_timeout_ms * 1000);
  while (!stop && ready < cfg.subs && !conn_errors && !closed)
    if (lws_service(ctx, 0) < 0) break;
  lws_sul_cancel(&deadline);
  double connect_s = (double)(mono_ns() - t_start) / 1e9;
  const char *failure = NULL;
  if (ready < cfg.subs) failure = conn_errors || closed ? "a subscriber failed to connect" : "subscribers not ready in time";

  double u0, s0, u1 = 0, s1 = 0, wall = 0;
  counts.delivered = counts.frames = counts.payload_bytes = 0; /* the window only */
  if (!failure) {
    stop = 0;
    cpu_now(&u0, &s0);
    int64_t w0 = mono_ns();
    lws_sul_schedule(ctx, 0, &deadline, on_deadline, (lws_usec_t)(cfg.duration * 1e6));
    while (!stop && closed < cfg.subs) {
      /* --read-us: the loader's read sweeps. Sleep first, so that one
       * lws_service() finds many sockets ready and reads each once. */
      if (cfg.read_us) {
        struct timespec ts = {.tv_sec = cfg.read_us / 1000000, .tv_nsec = (long)(cfg.read_us % 1000000) * 1000};
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR) {
        }
      }
      if (lws_service(ctx, 0) < 0) break;
    }
    wall = (double)(mono_ns() - w0) / 1e9;
    cpu_now(&u1, &s1);
    u1 -= u0;
    s1 -= s0;
  }
  int ok = !failure && !closed && !pieces && !counts.parse_errors && !counts.unknown;
  printf("{\"tool\":\"lws-sub\",\"lws\":\"%s\",\"subscribers\":%u,\"ready\":%u,\"rx_buffer_size\":%zu,"
         "\"deliveries\":%llu,\"messages\":%llu,\"payload_bytes\":%llu,\"pieces\":%llu,"
         "\"read_us\":%u,\"parse_errors\":%llu,\"unknown_symbol\":%llu,\"gaps\":%llu,\"backwards\":%llu,\"closed\":%u,",
         lws_get_library_version(), cfg.subs, ready, rxbuf, (unsigned long long)counts.delivered,
         (unsigned long long)counts.frames, (unsigned long long)counts.payload_bytes,
         (unsigned long long)pieces, cfg.read_us, (unsigned long long)counts.parse_errors,
         (unsigned long long)counts.unknown, (unsigned long long)counts.gaps,
         (unsigned long long)counts.backwards, closed);
  report_hist("latency_us", &lat);
  double tu, ts;
  cpu_now(&tu, &ts);
  printf(",\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"wall_s\":%.6f,\"process_cpu_s\":%.6f,\"connect_s\":%.4f,"
         "\"status\":\"%s\"",
         u1, s1, wall, tu + ts, connect_s, failure ? "error" : ok ? "ok" : "incomplete");
  if (failure) printf(",\"error\":\"%s\"", failure);
  printf("}\n");
  fflush(stdout);
  lws_context_destroy(ctx);
  free(last);
  free(subs);
  return failure ? 1 : 0;
}
