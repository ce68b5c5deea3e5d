#include "floor.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hist.h"
#include "lg.h"
#include "report.h"

static int full_io(int fd, uint8_t *buf, size_t len, int writing) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = writing ? send(fd, buf + done, len - done, MSG_NOSIGNAL) : recv(fd, buf + done, len - done, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    done += (size_t)r;
  }
  return 0;
}

static void echo_child(int lfd, uint32_t size) {
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) _exit(1);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  uint8_t *buf = malloc(size);
  while (buf && full_io(fd, buf, size, 0) == 0 && full_io(fd, buf, size, 1) == 0) {
  }
  _exit(0);
}

int floor_main(const floor_cfg *cfg) {
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t al = sizeof a;
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 1) < 0 ||
      getsockname(lfd, (struct sockaddr *)&a, &al) < 0)
    return fprintf(stderr, "floor: cannot listen on loopback\n"), 1;
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) return fprintf(stderr, "floor: fork failed\n"), 1;
  if (child == 0) {
    pin_cpu(cfg->echo_cpu);
    echo_child(lfd, cfg->size);
  }
  close(lfd);
  pin_cpu(cfg->cpu);
  prctl(PR_SET_TIMERSLACK, 1UL); /* --gap-us sleeps as asked, not 50 µs longer */
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = 1;
  hist h;
  hist_init(&h);
  uint8_t *buf = calloc(1, cfg->size);
  int64_t t_start = mono_ns();
  if (buf && connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    rc = 0;
    for (uint32_t i = 0; i < cfg->warmup + cfg->count; i++) {
      if (cfg->gap_us > 0) {
        struct timespec gap = {.tv_sec = cfg->gap_us / 1000000, .tv_nsec = (long)(cfg->gap_us % 1000000) * 1000};
        nanosleep(&gap, NULL);
      }
      int64_t t0 = mono_ns();
      if (full_io(fd, buf, cfg->size, 1) < 0 || full_io(fd, buf, cfg->size, 0) < 0) {
        rc = 1;
        break;
      }
      /* µs, rounded to nearest, as the run records latency */
      if (i >= cfg->warmup) hist_record(&h, (mono_ns() - t0 + 500) / 1000);
    }
  }
  double wall = (double)(mono_ns() - t_start) / 1e9;
  close(fd);
  kill(child, SIGTERM);
  waitpid(child, NULL, 0);
  free(buf);
  if (rc) return fprintf(stderr, "floor: ping-pong failed\n"), 1;
  printf("{\"mode\":\"floor\",\"size\":%u,\"gap_us\":%u,\"cpu\":%d,\"echo_cpu\":%d,", cfg->size, cfg->gap_us, cfg->cpu,
         cfg->echo_cpu);
  report_hist("rtt_us", &h);
  printf(",\"wall_s\":%.6f}\n", wall);
  return 0;
}
