/* The one clock of the backend: monotonic time for time boxes and
 * deadlines, wall-clock time for stored dates and generations. */
#ifndef CATALOG_CLOCK_H
#define CATALOG_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic microseconds (time boxes, latencies). */
static inline uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Monotonic milliseconds (job deadlines). */
static inline uint64_t clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

/* Wall-clock microseconds since the epoch (a generation restarting from the clock). */
static inline uint64_t clock_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Wall-clock milliseconds since the epoch (stored dates). */
static inline int64_t clock_wall_ms(void)
{
    return (int64_t)(clock_wall_us() / 1000);
}

/* Wall-clock seconds since the epoch (token times, uptime). */
static inline int64_t clock_wall_s(void)
{
    return (int64_t)(clock_wall_us() / 1000000);
}

#endif
