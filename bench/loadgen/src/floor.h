/*
 * The latency floor: a TCP ping-pong over loopback between this process and
 * an echo child forked from it (blocking sockets, TCP_NODELAY), so a run can
 * quote the physical round trip next to the server's latency. With a gap
 * between round trips both processes sleep in between, as a server and a
 * subscriber do at 1k ticks/s: on a VM, waking an idle vCPU is part of the
 * floor then (tens to hundreds of µs), and back-to-back ping-pong hides it.
 */
#ifndef FLOOR_H
#define FLOOR_H

#include <stdint.h>

typedef struct {
  uint32_t count;  /* measured round trips */
  uint32_t warmup; /* round trips before measuring */
  uint32_t size;   /* message bytes */
  int cpu;         /* pin the pinger here (-1: no) */
  int echo_cpu;    /* pin the echo child here (-1: no) */
  uint32_t gap_us; /* > 0: sleep this long between round trips (both sides go idle, as at a low tick rate) */
} floor_cfg;

int floor_main(const floor_cfg *cfg);

#endif
