/*
 * The latency floor: a TCP ping-pong over loopback between this process and
 * an echo child forked from it (blocking sockets, TCP_NODELAY), so a run can
 * quote the physical round trip next to the server's latency.
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
} floor_cfg;

int floor_main(const floor_cfg *cfg);

#endif
