/* The in-process cache's table (pure code: no lock, no I/O, no clock of its
 * own). Entries are keyed by their Redis key and hold the very bytes a Redis
 * hit returned (decoded once, on insert). Three classes — product, list,
 * categories — so that one invalidation drops a whole class. Bounded by
 * bytes (entry header + key + value), least-recently-used eviction.
 *
 * Tickets close the race between a reply and an invalidation: a caller
 * takes a ticket (local_table_ticket) before it sends the command whose
 * reply it may insert; every invalidation applied after that has a larger
 * sequence number, and an insert whose entry such an invalidation covers is
 * refused. A product key's invalidations are remembered in a small table of
 * hashed slots (a collision only refuses an insert that was safe).
 *
 * Entries are reference-counted: a reader may send one after the caller's
 * lock is released (local_entry_release is the only call that may run
 * unlocked). */
#ifndef CATALOG_LOCAL_TABLE_H
#define CATALOG_LOCAL_TABLE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/entry.h"

typedef enum { LOCAL_PRODUCT, LOCAL_LIST, LOCAL_CATEGORIES, LOCAL_CLASSES } local_class_t;

typedef struct local_entry local_entry_t;
struct local_entry {
    local_entry_t *hnext;         /* hash chain */
    local_entry_t *prev, *next;   /* recency: head is the most recent */
    local_entry_t *cprev, *cnext; /* the entries of its class */
    _Atomic unsigned refs;        /* the table's (while linked) plus one per reader */
    local_class_t cls;
    uint64_t hash;
    uint64_t born_ms;  /* when it was inserted (the caller's clock) */
    size_t size;       /* counted against the bound */
    entry_view_t view; /* points into data */
    size_t key_len;
    char data[]; /* key, then the stored bytes */
};

typedef struct {
    size_t entries, bytes, max_bytes, bucket_bytes;
    uint64_t evictions; /* entries dropped to make room */
    uint64_t refused;   /* inserts refused: an invalidation covering them arrived after their ticket */
    uint64_t expired;   /* entries of untracked keys dropped for their age */
} local_table_stats_t;

typedef struct local_table local_table_t;

/* Creates an empty table bounded by max_bytes (at least one entry of that
 * size fits). Out of memory aborts. */
local_table_t *local_table_create(size_t max_bytes);

void local_table_free(local_table_t *t);

/* The ticket to take before sending a command whose reply may be inserted:
 * the sequence number of the last invalidation applied. */
uint64_t local_table_ticket(const local_table_t *t);

/* Returns the entry of key with a reference for the caller (release it with
 * local_entry_release), or NULL. An entry older than max_age_ms at now_ms
 * is dropped and not returned (0: no age limit) — products too: Redis
 * reports a key's expiry only once something touches it, and L1 hits
 * never do. */
local_entry_t *local_table_get(local_table_t *t, const char *key, size_t key_len, uint64_t now_ms, uint64_t max_age_ms);

/* Drops one reference; frees the entry when it was the last (any thread). */
void local_entry_release(local_entry_t *e);

/* Inserts (or replaces) key's entry from the stored bytes of a Redis hit,
 * evicting the least recently used entries to stay within the bound.
 * Returns 1, or 0 when refused: the bytes are not a valid entry, larger
 * than a quarter of the bound, or an invalidation covering the entry (its
 * key, its class, or everything) was applied after ticket. */
int local_table_put(local_table_t *t, const char *key, size_t key_len, local_class_t cls, uint64_t ticket, const char *bytes,
                    size_t len, uint64_t now_ms);

/* Invalidations: each takes the next sequence number. drop_key drops one
 * product key; drop_class every entry of a class; clear everything. */
void local_table_drop_key(local_table_t *t, const char *key, size_t key_len);
void local_table_drop_class(local_table_t *t, local_class_t cls);
void local_table_clear(local_table_t *t);

void local_table_stats(const local_table_t *t, local_table_stats_t *out);

#endif
