#include "report.h"

#include <stdio.h>

static const char *peer_name(int p) {
  static const char *names[] = {"tickwire", "uws-raw", "ws-msgpack", "ws-json", "socketio"};
  return p >= 0 && p < (int)(sizeof names / sizeof *names) ? names[p] : "?";
}

void report_hist(const char *name, const hist *h) {
  printf("\"%s\":{\"p50\":%lld,\"p99\":%lld,\"p999\":%lld,\"max\":%lld,\"min\":%lld,\"mean\":%.1f,"
         "\"count\":%llu,\"negative\":%llu}",
         name, (long long)hist_percentile(h, 50), (long long)hist_percentile(h, 99),
         (long long)hist_percentile(h, 99.9), (long long)h->max, (long long)(h->total ? h->min : 0),
         h->total ? h->sum / (double)h->total : 0.0, (unsigned long long)h->total,
         (unsigned long long)h->negative);
}

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

void report_print(const report *r) {
  const run_cfg *c = r->cfg;
  const run_counts *n = r->counts;
  uint64_t order_errors = n->gaps + n->backwards;
  const char *status = r->failure ? "error"
                       : (c->rate > 0 && n->delivered != r->expected) || order_errors || n->parse_errors ||
                               n->closed || n->feed_closed
                           ? "incomplete"
                           : "ok";
  double win_cpu = r->win_user + r->win_sys;
  printf("{\"mode\":\"run\",\"peer\":\"%s\",\"format\":\"%s\",\"subscribers\":%u,\"connected\":%u,"
         "\"sampled\":%u,\"symbols\":%u,\"sub_symbols\":%u,\"ticks_per_frame\":%u,\"rate\":%g,",
         peer_name(c->peer), c->json || c->peer == PEER_WS_JSON ? "json" : "msgpack", c->subs, n->connected,
         n->sampled, c->symbols, c->sub_symbols, c->batch, c->rate);
  printf("\"sent_ticks\":%llu,\"sent_frames\":%llu,\"expected\":%llu,\"delivered\":%llu,\"frames\":%llu,"
         "\"payload_bytes\":%llu,\"order_errors\":%llu,\"gaps\":%llu,\"backwards\":%llu,\"parse_errors\":%llu,"
         "\"unknown_symbol\":%llu,\"no_seq\":%llu,\"no_time\":%llu,\"before_ready\":%llu,\"error_replies\":%llu,"
         "\"feed_error_replies\":%llu,\"closed\":%u,\"first_close_code\":%u,\"feed_closed\":%s,",
         (unsigned long long)n->sent_ticks, (unsigned long long)n->sent_frames, (unsigned long long)r->expected,
         (unsigned long long)n->delivered, (unsigned long long)n->frames, (unsigned long long)n->payload_bytes,
         (unsigned long long)order_errors, (unsigned long long)n->gaps, (unsigned long long)n->backwards,
         (unsigned long long)n->parse_errors, (unsigned long long)n->unknown, (unsigned long long)n->no_seq,
         (unsigned long long)n->no_time, (unsigned long long)n->before_ready, (unsigned long long)n->errors,
         (unsigned long long)n->feed_errors, n->closed, n->first_close_code, n->feed_closed ? "true" : "false");
  report_hist("latency_us", r->lat);
  putchar(',');
  report_hist("send_lag_us", r->lag);
  printf(",\"deliveries_per_s\":%.1f,\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"wall_s\":%.6f,\"connect_s\":%.6f,"
         "\"feed_s\":%.6f,\"window\":{\"wall_s\":%.6f,\"cpu_s\":%.6f},\"loader_cpu_share\":%.4f,\"status\":\"%s\"",
         r->win_wall > 0 ? (double)n->delivered / r->win_wall : 0.0, r->user, r->sys, r->wall, r->connect_s,
         r->feed_s, r->win_wall, win_cpu, r->win_wall > 0 ? win_cpu / r->win_wall : 0.0, status);
  double share = r->win_wall > 0 ? win_cpu / r->win_wall : 0.0;
  printf(",\"loader_bound\":%s", share > LOADER_BOUND_SHARE ? "true" : "false");
  if (r->server_cpu_s >= 0)
    printf(",\"server_cpu_s\":%.3f,\"server_cpu_ns_per_delivery\":%.1f", r->server_cpu_s,
           n->delivered ? r->server_cpu_s * 1e9 / (double)n->delivered : 0.0);
  if (r->failure) {
    printf(",\"error\":");
    json_str(r->failure);
  }
  printf("}\n");
  fflush(stdout);
}
