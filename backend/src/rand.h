/* A small per-thread random source (xorshift64*): request ids and TTL
 * jitter need spread, not secrecy. */
#ifndef CATALOG_RAND_H
#define CATALOG_RAND_H

#include <stdint.h>
#include <sys/random.h>
#include "clock.h"

/* Seeds *state from getrandom, or from the clock and salt if that fails. */
static inline void rand_seed(uint64_t *state, uint64_t salt)
{
    if (getrandom(state, sizeof(*state), 0) != sizeof(*state) || *state == 0)
        *state = 0x9E3779B97F4A7C15ull ^ (clock_wall_us() << 8) ^ salt;
}

/* Returns the next value and advances *state (never 0 once seeded). */
static inline uint64_t rand_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

#endif
