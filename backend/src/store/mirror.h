/* The catalogue in memory, one per process, so that a list or categories
 * miss costs no sorted, counted or searched query (FerretDB decodes every
 * document for those: seconds at 20,000 products). It is exact for a
 * generation: built by one scan after reading the generation and the
 * change stream's tip together (the categories collection with it: the
 * API never writes it), then caught up by re-reading by _id only
 * the products the stream names for the generations since — when the
 * stream holds every one of them consecutively; otherwise, and at least
 * every max age (writes made around the API), it is scanned again. Used
 * from the store's worker threads; the generation check is cheap from a
 * loop. */
#ifndef CATALOG_MIRROR_H
#define CATALOG_MIRROR_H

#include <mongoc/mongoc.h>
#include <stdint.h>

#include "model/change.h"
#include "model/query.h"

typedef struct mirror mirror_t;

/* Past this many generations to catch up, one scan is cheaper than the
 * point reads (about 1.5 ms each on FerretDB; a scan of 20,000 products
 * about 1 s). */
#define MIRROR_PATCH_MAX 256

typedef enum {
    MIRROR_OK = 0,        /* at (or past) the batch's generation */
    MIRROR_TOO_LARGE = 1, /* more products than allowed: not built; the store answers lists directly */
    MIRROR_ERROR = -1,    /* the store failed (err says why); the mirror is unchanged */
} mirror_result_t;

/* max_items: the most products held (0: never built); max_age_ms: the
 * oldest scan served; currency: the items' currency. */
mirror_t *mirror_create(size_t max_items, uint64_t max_age_ms, const char *currency);
void mirror_destroy(mirror_t *m);

/* The generation the mirror is exact for; 0 before the first build. */
uint64_t mirror_gen(mirror_t *m);

/* 1 when lists should be computed here: enabled, and not found too large
 * within the last max age. */
int mirror_usable(mirror_t *m);

/* 1 when it should be (re)scanned ahead of readers: never built, or its
 * scan is past four fifths of max age. */
int mirror_wants_scan(mirror_t *m);

/* Copies the id of the last stream entry the mirror has applied ("" before
 * the first build): a catch-up reads the entries after it. */
void mirror_base_id(mirror_t *m, char out[CHANGE_STREAM_ID_MAX]);

/* On a worker: brings the mirror to b->gen — re-reading the products b
 * names since its generation when b has each of those generations once
 * and in order, scanning the collection otherwise or when force_scan.
 * Serialised: a concurrent call waits, then finds the work done. b must
 * have been read from Redis before this call. */
mirror_result_t mirror_sync(mirror_t *m, const change_batch_t *b, int force_scan, mongoc_collection_t *products,
                            mongoc_collection_t *categories, char *err, size_t errlen);

/* On a worker: the list body of q from the mirror (malloc'd, as
 * listing_page) and its count; *gen: the generation it is exact for.
 * Returns 0, or -1 when the mirror is below min_gen or its scan older than
 * max age (the caller reads the store instead), or 1 with *unknown the
 * index of the first category q names that does not exist (no body). */
int mirror_list(mirror_t *m, const query_t *q, uint64_t min_gen, char **json, size_t *len, int64_t *count, uint64_t *gen,
                size_t *unknown);

/* Like mirror_list, for the categories: name_cb once per category
 * document (slug, name), then count_cb once per category products use. */
int mirror_categories(mirror_t *m, uint64_t min_gen, void (*name_cb)(void *data, const char *slug, const char *name),
                      void (*count_cb)(void *data, const char *slug, int64_t count), void *data, uint64_t *gen);

typedef struct {
    uint64_t gen;
    size_t items, bytes;
    uint64_t scans, scan_ms_last, patches, point_reads, age_ms;
    int too_large;
} mirror_stats_t;

void mirror_stats(mirror_t *m, mirror_stats_t *out);

#endif
