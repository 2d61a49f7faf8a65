/* memory_latency: how long one dependent load takes when the data is spread over N KiB.
 *
 *     memory_latency KIB...        prints "KIB NS" per size: nanoseconds per load, best of 5 rounds
 *
 * A random cyclic permutation is walked one pointer at a time, so every load waits for the one
 * before it and the prefetcher cannot guess the next. `make bench` runs it among its baselines to
 * see the host's state: a neighbour that takes the shared L3 cache slows this, and Portcullis's
 * memory-bound work with it, much more than it slows `openssl speed` or nginx, so ratios to those
 * stop cancelling the machine out (bench/checks.py compares it with the reference run's). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUNDS = 5, STEPS = 2000000 };

static double seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

/* Nanoseconds per load over a cycle through `count` slots. */
static double latency(size_t count) {
    size_t *next = malloc(count * sizeof *next), *order = malloc(count * sizeof *order);
    if (!next || !order) { fprintf(stderr, "memory_latency: out of memory\n"); exit(1); }
    for (size_t i = 0; i < count; i++) order[i] = i;
    uint64_t state = 88172645463325252ull;  /* xorshift64: the same walk on every run */
    for (size_t i = count - 1; i > 0; i--) {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17;
        size_t j = state % (i + 1), swap = order[i];
        order[i] = order[j]; order[j] = swap;
    }
    for (size_t i = 0; i < count; i++) next[order[i]] = order[(i + 1) % count];
    free(order);
    volatile size_t sink;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) at = next[at];  /* touch every slot once before timing */
    double best = 1e9;
    for (int round = 0; round < ROUNDS; round++) {
        double began = seconds();
        for (long step = 0; step < STEPS; step++) at = next[at];
        double each = (seconds() - began) / STEPS * 1e9;
        if (each < best) best = each;
    }
    sink = at;
    (void)sink;
    free(next);
    return best;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: memory_latency KIB...\n"); return 2; }
    for (int i = 1; i < argc; i++) {
        long kib = strtol(argv[i], NULL, 10);
        if (kib < 16) { fprintf(stderr, "memory_latency: %s: at least 16 KiB\n", argv[i]); return 2; }
        printf("%ld %.2f\n", kib, latency((size_t)kib * 1024 / sizeof(size_t)));
    }
    return 0;
}
