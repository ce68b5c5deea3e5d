#include "run.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "conn.h"
#include "cpu.h"
#include "deliver.h"
#include "feed.h"
#include "hist.h"
#include "report.h"
#include "wsconn.h"

/* Run-wide state: one thread, so plain globals. */
static const run_cfg *C;
static int ep = -1, tfd = -1;
static conn timer_tag = {.kind = K_TIMER};
static conn *subs;
static conn feed;
static uint32_t width;
static int64_t last_rx_ns;
static hist lat, lag;
static run_counts N;
static char failure[256];

/* The feed's schedule: frame j is due at t0 + j * interval (CLOCK_MONOTONIC). */
static struct {
  feed_frames ff;
  int active;
  uint64_t next, frames;
  int64_t t0, real_off_us;
  double interval_ns;
} F;

static int64_t due_ns(uint64_t j) { return F.t0 + (int64_t)llround((double)j * F.interval_ns); }
static void feed_pump(void);

static void set_failure(const char *msg) {
  if (!failure[0]) snprintf(failure, sizeof failure, "%s", msg);
}

static void watch(conn *c, int add) {
  struct epoll_event ev = {.events = (c->swept ? 0u : EPOLLIN) | (c->want_out ? EPOLLOUT : 0u), .data.ptr = c};
  if (epoll_ctl(ep, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->ws.fd, &ev) < 0) set_failure("epoll_ctl failed");
}

/* Keeps EPOLLOUT registered exactly while bytes wait to go out. */
static void sync_out(conn *c) {
  uint8_t want = ws_pending(&c->ws) > 0;
  if (want != c->want_out) {
    c->want_out = want;
    watch(c, 0);
  }
}

static void drop(conn *c) {
  if (c->gone) return;
  c->gone = 1;
  epoll_ctl(ep, EPOLL_CTL_DEL, c->ws.fd, NULL);
  close(c->ws.fd);
  if (c->kind == K_SUB) {
    N.closed++;
    if (!N.first_close_code) N.first_close_code = c->ws.close_code;
  } else
    N.feed_closed = 1;
}

static void read_conn(conn *c);

static void on_event(conn *c, uint32_t ev) {
  if (c->gone) return;
  if (!c->connected) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->ws.fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err || (ev & (EPOLLERR | EPOLLHUP))) {
      char m[128];
      snprintf(m, sizeof m, "connect to %s:%d failed: %s", C->host, c->kind == K_FEED && C->feed_port > 0 ? C->feed_port : C->port,
               strerror(err ? err : ECONNREFUSED));
      set_failure(m);
      drop(c);
      return;
    }
    if (!(ev & EPOLLOUT)) return;
    c->connected = 1;
    const char *path;
    char *owned = NULL;
    if (C->peer == PEER_SOCKETIO) path = SIO_PATH; /* the feed too: one Socket.IO server */
    else if (c->kind == K_FEED) path = "/feed";
    else if (C->peer != PEER_TICKWIRE) path = "/stream";
    else {
      size_t cap = 64 + (size_t)C->sub_symbols * (width + 2);
      owned = malloc(cap);
      if (!owned) return set_failure("out of memory");
      size_t at = (size_t)snprintf(owned, cap, "/stream?%ssymbols=", C->json ? "format=json&" : "");
      if (C->sub_symbols == 0) at += (size_t)snprintf(owned + at, cap - at, "*");
      for (uint32_t j = 0; j < C->sub_symbols; j++) {
        if (j) owned[at++] = ',';
        feed_symbol_name(owned + at, (uint32_t)(((uint64_t)c->index * C->sub_symbols + j) % C->symbols), width);
        at += width + 1;
      }
      path = owned;
    }
    const char *auth = c->kind == K_FEED ? (C->peer == PEER_TICKWIRE ? C->feed_token : NULL) : C->stream_token;
    if (ws_request(&c->ws, C->host, c->kind == K_FEED && C->feed_port > 0 ? C->feed_port : C->port, path, auth) < 0) set_failure("could not send the upgrade request");
    free(owned);
    sync_out(c);
    return;
  }
  if (ev & EPOLLOUT) {
    if (ws_flush(&c->ws) < 0) return drop(c);
    sync_out(c);
  }
  if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) read_conn(c);
}

/* Reads what has arrived on c and hands each message to deliver_msg. */
static void read_conn(conn *c) {
  run_dlv.now_us = real_ns() / 1000;
  uint64_t before = c->ws.rx_bytes;
  int r = ws_read(&c->ws, ws_recv, &c->ws, deliver_msg, c);
  if (c->ws.rx_bytes != before) last_rx_ns = mono_ns();
  if (c->ws.http_status && c->ws.http_status != 101) {
    char m[128];
    snprintf(m, sizeof m, "%s upgrade refused: HTTP %d", c->kind == K_FEED ? "feed" : "subscriber",
             c->ws.http_status);
    set_failure(m);
  }
  if (r <= 0) return drop(c);
  if (ws_pending(&c->ws)) sync_out(c); /* a pong was queued */
}

/*
 * --sweep-us: the sampled subscribers (whose latency is recorded) are read as
 * soon as data arrives; the others are read every sweep_us in one pass. A
 * loopback recv() costs 6-8 us here whatever it carries (most of it the ACK it
 * sends), so reading every subscriber per frame made the loader the
 * bottleneck at 100k frames/s; the unsampled ones only need to be drained.
 */
static int64_t next_sweep_ns = INT64_MAX;

static void start_sweeps(void) {
  if (C->sweep_us == 0) return;
  for (uint32_t i = 0; i < C->subs; i++) {
    conn *c = &subs[i];
    if (c->gone || c->last != NULL) continue;
    c->swept = 1;
    watch(c, 0);
  }
  next_sweep_ns = mono_ns() + (int64_t)C->sweep_us * 1000;
}

static void poll_events(int timeout);

/* Reads every swept subscriber; between every 16 it takes the sampled
 * subscribers' pending events too, so a long sweep does not delay them. */
static void sweep(void) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < C->subs; i++) {
    conn *c = &subs[i];
    if (!c->swept || c->gone) continue;
    read_conn(c);
    feed_pump();
    if ((++k & 15) == 0) poll_events(0);
  }
  next_sweep_ns = mono_ns() + (int64_t)C->sweep_us * 1000;
}

/* Handles events until deadline_ns (CLOCK_MONOTONIC), at most ~50 ms. */
static void wait_events(int64_t deadline_ns) {
  int64_t now = mono_ns();
  if (now >= next_sweep_ns) sweep(), now = mono_ns();
  int64_t cap = now + 50000000LL;
  if (deadline_ns > cap) deadline_ns = cap;
  if (deadline_ns > next_sweep_ns) deadline_ns = next_sweep_ns;
  int timeout = 0;
  int64_t spin_from = deadline_ns - (int64_t)C->spin_us * 1000;
  if (C->spin_us > 0 && now >= spin_from) {
    /* Inside the spin window before a send: poll, do not sleep. */
  } else if (deadline_ns > now && !C->spin) {
    if (C->spin_us > 0) deadline_ns = spin_from; /* wake early, spin the rest */
    if (C->read_us > 0) {
      /* Batch reads: sleep, then take whatever arrived in one sweep. */
      int64_t wake = now + (int64_t)C->read_us * 1000;
      if (wake > deadline_ns) wake = deadline_ns;
      struct timespec ts = {.tv_sec = wake / 1000000000LL, .tv_nsec = wake % 1000000000LL};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
      }
    } else {
      struct itimerspec its = {
          .it_value = {.tv_sec = deadline_ns / 1000000000LL, .tv_nsec = deadline_ns % 1000000000LL}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
      timeout = -1;
    }
  }
  poll_events(timeout);
}

/* One epoll_wait (timeout as epoll_wait's) and the events it returned. */
static void poll_events(int timeout) {
  static struct epoll_event evs[512];
  int n = epoll_wait(ep, evs, 512, timeout);
  for (int i = 0; i < n; i++) {
    conn *c = evs[i].data.ptr;
    if (c->kind == K_TIMER) {
      uint64_t x;
      if (read(tfd, &x, sizeof x) < 0) { /* spurious: nothing to clear */
      }
      continue;
    }
    on_event(c, evs[i].events);
    feed_pump();
  }
}

static int open_conn(conn *c) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return set_failure("socket() failed (raise ulimit -n?)"), -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int port = c->kind == K_FEED && C->feed_port > 0 ? C->feed_port : C->port;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  if (inet_pton(AF_INET, C->host, &a.sin_addr) != 1)
    return close(fd), set_failure("--host must be an IPv4 address"), -1;
  if (C->source_ips > 1 && c->kind == K_SUB) {
    /* Spread subscribers over 127.0.0.1..K so a per-IP connection limit
     * (tickwire: --max-connections-per-ip, 1,000 by default) does not cap N. */
    struct sockaddr_in src = {.sin_family = AF_INET};
    src.sin_addr.s_addr = htonl(0x7f000001u + c->index % C->source_ips);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0)
      return close(fd), set_failure("bind() to a 127.0.0.x source address failed"), -1;
  }
  ws_init(&c->ws, fd, 0);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
    return close(fd), set_failure("connect() failed"), -1;
  c->want_out = 1;
  watch(c, 1);
  return 0;
}

static uint64_t per_symbol_sent(uint64_t ticks, uint32_t sym) {
  return ticks / C->symbols + (sym < ticks % C->symbols ? 1 : 0);
}

static uint64_t expected_for(uint32_t i, uint64_t ticks) {
  if (C->peer != PEER_TICKWIRE || C->sub_symbols == 0 || C->sub_symbols >= C->symbols) return ticks;
  uint64_t e = 0;
  for (uint32_t j = 0; j < C->sub_symbols; j++)
    e += per_symbol_sent(ticks, (uint32_t)(((uint64_t)i * C->sub_symbols + j) % C->symbols));
  return e;
}

/* The feed can send: its upgrade is done (Socket.IO: its namespace CONNECT
 * was answered; an EVENT sent before that is dropped by the server). */
static int feed_open(void) { return C->peer == PEER_SOCKETIO ? feed.ready : feed.ws.state == WS_OPEN; }

static int connect_all(void) {
  uint32_t started = 0, ready = 0;
  int64_t deadline = mono_ns() + (int64_t)C->connect_timeout_ms * 1000000LL;
  while (ready < C->subs && !failure[0]) {
    while (started < C->subs && started - ready < C->connect_parallel)
      if (open_conn(&subs[started++]) < 0) return -1;
    wait_events(mono_ns() + 5000000LL);
    ready = 0;
    for (uint32_t i = 0; i < started; i++) {
      /* One that was ready and then closed is counted in `closed`, not a
       * connect failure: a peer may finish with it before the loader has read
       * the last one's "ready" (the sweep test's peer does). */
      if (subs[i].gone && !subs[i].ready) return set_failure("a subscriber closed while connecting"), -1;
      ready += subs[i].ready;
    }
    if (mono_ns() > deadline) return set_failure("subscribers not ready before --connect-timeout-ms"), -1;
  }
  if (failure[0]) return -1;
  if (C->rate <= 0) return 0;
  if (open_conn(&feed) < 0) return -1;
  while (!feed_open() && !failure[0] && !feed.gone) {
    wait_events(mono_ns() + 5000000LL);
    if (mono_ns() > deadline) return set_failure("feed not open before --connect-timeout-ms"), -1;
  }
  if (feed.gone) set_failure("the feed closed while connecting");
  return failure[0] ? -1 : 0;
}

/* Sends every frame due by now. Called from the feed loop and between the
 * events of a busy loop turn, so reading subscribers does not delay sends. */
static void feed_pump(void) {
  if (!F.active) return;
  for (;;) {
    int64_t due = due_ns(F.next);
    int64_t now = mono_ns();
    if (F.next >= F.frames || due > now) break;
    feed_frames_fill(&F.ff, F.next * F.ff.batch, (due + F.real_off_us * 1000) / 1000);
    if (ws_write(&feed.ws, F.ff.frame, F.ff.len) < 0) {
      set_failure("feed write failed");
      F.next = F.frames;
      break;
    }
    hist_record(&lag, (now - due) / 1000);
    N.sent_frames++;
    N.sent_ticks += F.ff.batch;
    F.next++;
  }
  sync_out(&feed);
  if (F.next >= F.frames) F.active = 0;
}

/* Summed CPU seconds of the --server-pid processes, or -1 (none, or one is gone). */
static double servers_cpu_s(const run_cfg *cfg) {
  if (cfg->n_server_pids == 0) return -1;
  double sum = 0;
  for (uint32_t i = 0; i < cfg->n_server_pids; i++) {
    double s = proc_cpu_s(cfg->server_pids[i]);
    if (s < 0) return -1;
    sum += s;
  }
  return sum;
}

int run_main(const run_cfg *cfg) {
  C = cfg;
  int64_t start_ns = mono_ns();
  width = feed_symbol_width(cfg->symbols);
  run_dlv = (deliver_state){.cfg = cfg, .width = width, .lat = &lat, .n = &N};
  hist_init(&lat);
  hist_init(&lag);
  prctl(PR_SET_TIMERSLACK, 1UL); /* µs-precise timer wake-ups */
  ep = epoll_create1(EPOLL_CLOEXEC);
  tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event tev = {.events = EPOLLIN, .data.ptr = &timer_tag};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);
  subs = calloc(cfg->subs ? cfg->subs : 1, sizeof *subs);
  if (!subs) return fprintf(stderr, "out of memory\n"), 1;
  uint32_t sampled = 0;
  for (uint32_t i = 0; i < cfg->subs; i++) {
    subs[i].index = i;
    subs[i].sio.join = 1; /* Socket.IO subscribers join room "all" */
    if (cfg->sample > 0 && i % cfg->sample == cfg->sample - 1) sampled++;
  }
  if ((uint64_t)sampled * cfg->symbols > (256ull << 20))
    return fprintf(stderr, "order state too large: raise --sample\n"), 1;
  uint32_t *last = calloc((size_t)sampled * cfg->symbols + 1, sizeof *last);
  if (!last) return fprintf(stderr, "out of memory\n"), 1;
  for (uint32_t i = 0, s = 0; i < cfg->subs; i++)
    if (cfg->sample > 0 && i % cfg->sample == cfg->sample - 1) subs[i].last = last + (size_t)(s++) * cfg->symbols;
  feed.kind = K_FEED;

  report r = {.cfg = cfg, .lat = &lat, .lag = &lag, .counts = &N, .server_cpu_s = -1};
  if (connect_all() == 0) {
    int fmt = cfg->peer == PEER_WS_JSON ? FEED_JSON : cfg->peer == PEER_SOCKETIO ? FEED_SOCKETIO : FEED_MSGPACK;
    if (cfg->rate > 0 && feed_frames_init(&F.ff, cfg->batch, cfg->symbols, fmt, feed.ws.mask, cfg->pad) < 0)
      set_failure("could not build the feed frames");
  }
  r.connect_s = (double)(mono_ns() - start_ns) / 1e9;
  if (!failure[0]) {
    cpu_now(&r.win_user, &r.win_sys);
    double server0 = servers_cpu_s(cfg);
    int64_t w0 = mono_ns();
    F.real_off_us = (real_ns() - mono_ns()) / 1000;
    start_sweeps();
    uint64_t ticks = cfg->ticks ? cfg->ticks : (uint64_t)llround(cfg->rate * cfg->duration);
    F.frames = (ticks + cfg->batch - 1) / cfg->batch;
    F.t0 = w0 + 1000000LL; /* first frame due 1 ms from now */
    F.interval_ns = cfg->rate > 0 ? (double)cfg->batch * 1e9 / cfg->rate : 0;
    run_dlv.record_from_us = cfg->warmup > 0 ? (F.t0 / 1000 + F.real_off_us) + (int64_t)(cfg->warmup * 1e6) : INT64_MIN;
    last_rx_ns = mono_ns();
    if (cfg->rate > 0) {
      F.active = F.frames > 0;
      while (F.active && !failure[0] && !feed.gone) {
        feed_pump();
        if (ws_pending(&feed.ws) > (256u << 20)) set_failure("feed backlog over 256 MiB: the server does not read");
        if (F.active) wait_events(due_ns(F.next));
      }
      F.active = 0;
      r.feed_s = (double)(mono_ns() - F.t0) / 1e9;
      for (uint32_t i = 0; i < cfg->subs; i++) r.expected += expected_for(i, N.sent_ticks);
      /* Drain: until every update arrived, or nothing arrived for --drain-ms,
       * or --max-drain-ms passed (a collapsed server may trickle for minutes).
       * The idle clock starts no earlier than the last send: at a low rate
       * the previous delivery may be older than --drain-ms already. */
      if (last_rx_ns < mono_ns()) last_rx_ns = mono_ns();
      int64_t drain_end = cfg->max_drain_ms > 0 ? mono_ns() + (int64_t)cfg->max_drain_ms * 1000000LL : INT64_MAX;
      while (!failure[0] && (N.delivered < r.expected || ws_pending(&feed.ws) > 0)) {
        if (mono_ns() - last_rx_ns > (int64_t)cfg->drain_ms * 1000000LL) break;
        if (mono_ns() > drain_end) break;
        if (cfg->subs > 0 && N.closed == cfg->subs && ws_pending(&feed.ws) == 0) break;
        wait_events(mono_ns() + 10000000LL);
      }
    } else {
      int64_t end = w0 + (int64_t)(cfg->duration * 1e9);
      /* Until the time is up, or every subscriber has closed (nothing more can come). */
      while (!failure[0] && mono_ns() < end && (cfg->subs == 0 || N.closed < cfg->subs)) wait_events(end);
    }
    r.win_wall = (double)(mono_ns() - w0) / 1e9;
    double u, s;
    cpu_now(&u, &s);
    double server1 = servers_cpu_s(cfg);
    r.server_cpu_s = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
    r.win_user = u - r.win_user;
    r.win_sys = s - r.win_sys;
  }
  for (uint32_t i = 0; i < cfg->subs; i++) {
    N.connected += subs[i].ready && !subs[i].gone;
    N.sampled += subs[i].last != NULL;
  }
  r.wall = (double)(mono_ns() - start_ns) / 1e9;
  cpu_now(&r.user, &r.sys);
  r.failure = failure[0] ? failure : NULL;
  report_print(&r);
  for (uint32_t i = 0; i < cfg->subs; i++) {
    if (!subs[i].gone && subs[i].ws.fd > 0) close(subs[i].ws.fd);
    ws_free(&subs[i].ws);
  }
  if (feed.ws.fd > 0 && !feed.gone) close(feed.ws.fd);
  ws_free(&feed.ws);
  feed_frames_free(&F.ff);
  free(last);
  free(subs);
  return failure[0] ? 1 : 0;
}
