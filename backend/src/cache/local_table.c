#include "cache/local_table.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define TOMB_SLOTS 4096 /* product keys' last invalidation, by hash */

struct local_table {
    local_entry_t **buckets;
    size_t nbuckets; /* a power of two */
    local_entry_t *head, *tail;
    local_entry_t *classes[LOCAL_CLASSES];
    uint64_t seq;                       /* the last invalidation's number */
    uint64_t last_all;                  /* the last clear's */
    uint64_t last_class[LOCAL_CLASSES]; /* the last drop of each class */
    uint64_t tomb[TOMB_SLOTS];          /* the last drop of a product key hashing there */
    local_table_stats_t st;
};

/* FNV-1a, 64 bits. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 1099511628211ULL;
    }
    return h;
}

local_table_t *local_table_create(size_t max_bytes)
{
    local_table_t *t = xcalloc(1, sizeof(*t));
    t->nbuckets = 64;
    t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
    t->st.max_bytes = max_bytes;
    t->st.bucket_bytes = t->nbuckets * sizeof(*t->buckets);
    t->seq = 1; /* a ticket is never 0 (0: "no fill") */
    return t;
}

uint64_t local_table_ticket(const local_table_t *t)
{
    return t->seq;
}

void local_entry_release(local_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        free(e);
}

/* Takes e out of the hash chain, the recency list and its class list, and
 * drops the table's reference. */
static void unlink_entry(local_table_t *t, local_entry_t *e)
{
    local_entry_t **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        t->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    if (e->cprev != NULL)
        e->cprev->cnext = e->cnext;
    else
        t->classes[e->cls] = e->cnext;
    if (e->cnext != NULL)
        e->cnext->cprev = e->cprev;
    t->st.entries--;
    t->st.bytes -= e->size;
    local_entry_release(e);
}

static local_entry_t *find(const local_table_t *t, const char *key, size_t key_len, uint64_t h)
{
    for (local_entry_t *e = t->buckets[h & (t->nbuckets - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && e->key_len == key_len && memcmp(e->data, key, key_len) == 0)
            return e;
    return NULL;
}

/* Moves e to the head of the recency list. */
static void touch(local_table_t *t, local_entry_t *e)
{
    if (t->head == e)
        return;
    e->prev->next = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        t->tail = e->prev;
    e->prev = NULL;
    e->next = t->head;
    t->head->prev = e;
    t->head = e;
}

local_entry_t *local_table_get(local_table_t *t, const char *key, size_t key_len, uint64_t now_ms, uint64_t max_age_ms)
{
    local_entry_t *e = find(t, key, key_len, hash_key(key, key_len));
    if (e == NULL)
        return NULL;
    if (max_age_ms != 0 && now_ms - e->born_ms >= max_age_ms) {
        t->st.expired++;
        unlink_entry(t, e);
        return NULL;
    }
    touch(t, e);
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
    return e;
}

/* Doubles the bucket array once there are more entries than buckets. */
static void grow(local_table_t *t)
{
    size_t n = t->nbuckets * 2;
    local_entry_t **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (local_entry_t *e = t->buckets[i], *next; e != NULL; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
    t->st.bucket_bytes = n * sizeof(*b);
}

/* 1 when an invalidation applied after ticket covers an entry of key/cls. */
static int covered(const local_table_t *t, local_class_t cls, uint64_t h, uint64_t ticket)
{
    if (t->last_all > ticket || t->last_class[cls] > ticket)
        return 1;
    return cls == LOCAL_PRODUCT && t->tomb[h % TOMB_SLOTS] > ticket;
}

/* Links a new entry at the head of every list. */
static void link_entry(local_table_t *t, local_entry_t *e)
{
    size_t b = e->hash & (t->nbuckets - 1);
    e->hnext = t->buckets[b];
    t->buckets[b] = e;
    e->prev = NULL;
    e->next = t->head;
    if (t->head != NULL)
        t->head->prev = e;
    t->head = e;
    if (t->tail == NULL)
        t->tail = e;
    e->cprev = NULL;
    e->cnext = t->classes[e->cls];
    if (e->cnext != NULL)
        e->cnext->cprev = e;
    t->classes[e->cls] = e;
    t->st.entries++;
    t->st.bytes += e->size;
}

int local_table_put(local_table_t *t, const char *key, size_t key_len, local_class_t cls, uint64_t ticket, const char *bytes,
                    size_t len, uint64_t now_ms)
{
    uint64_t h = hash_key(key, key_len);
    size_t size = sizeof(local_entry_t) + key_len + len;
    entry_view_t probe;
    if (size > t->st.max_bytes / 4 || entry_decode(bytes, len, &probe) != 0)
        return 0;
    if (covered(t, cls, h, ticket)) {
        t->st.refused++;
        return 0;
    }
    local_entry_t *old = find(t, key, key_len, h);
    if (old != NULL)
        unlink_entry(t, old);
    while (t->tail != NULL && t->st.bytes + size > t->st.max_bytes) {
        t->st.evictions++;
        unlink_entry(t, t->tail);
    }
    local_entry_t *e = xmalloc(size);
    atomic_init(&e->refs, 1);
    e->cls = cls;
    e->hash = h;
    e->born_ms = now_ms;
    e->size = size;
    e->key_len = key_len;
    memcpy(e->data, key, key_len);
    memcpy(e->data + key_len, bytes, len);
    entry_decode(e->data + key_len, len, &e->view);
    link_entry(t, e);
    if (t->st.entries > t->nbuckets)
        grow(t);
    return 1;
}

void local_table_drop_key(local_table_t *t, const char *key, size_t key_len)
{
    uint64_t h = hash_key(key, key_len);
    t->tomb[h % TOMB_SLOTS] = ++t->seq;
    local_entry_t *e = find(t, key, key_len, h);
    if (e != NULL)
        unlink_entry(t, e);
}

void local_table_drop_class(local_table_t *t, local_class_t cls)
{
    t->last_class[cls] = ++t->seq;
    while (t->classes[cls] != NULL)
        unlink_entry(t, t->classes[cls]);
}

void local_table_clear(local_table_t *t)
{
    t->last_all = ++t->seq;
    while (t->head != NULL)
        unlink_entry(t, t->head);
}

void local_table_free(local_table_t *t)
{
    if (t == NULL)
        return;
    local_table_clear(t);
    free(t->buckets);
    free(t);
}

void local_table_stats(const local_table_t *t, local_table_stats_t *out)
{
    *out = t->st;
}
