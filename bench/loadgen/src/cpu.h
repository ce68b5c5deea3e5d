/* CPU time: this process's (getrusage) and another's (/proc/PID/stat). */
#ifndef CPU_H
#define CPU_H

/* User and system seconds of this process. */
void cpu_now(double *user, double *sys);
/* utime + stime of process pid in seconds (all threads, 10 ms resolution), or -1. */
double proc_cpu_s(int pid);

#endif
