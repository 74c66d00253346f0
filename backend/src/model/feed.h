/* The change feed's events as pure data: where an event sits in the Redis
 * change stream ({products}:changes) — with the stream's epoch, so that an
 * id of a stream Redis lost on a restart is never taken for one of the
 * stream that replaced it — the event read from a stream entry, and its
 * Server-Sent Events text. Pure code. */
#ifndef CATALOG_FEED_H
#define CATALOG_FEED_H

#include <stddef.h>
#include <stdint.h>

/* A place in the stream: its epoch and a stream entry id "<ms>-<seq>". The
 * event id clients see is "<epoch>:<ms>-<seq>". */
typedef struct {
    uint64_t epoch; /* 0: none */
    uint64_t ms, seq;
} feed_pos_t;

#define FEED_ID_MAX 64  /* an event id, NUL-terminated (three 20-digit numbers and two separators) */
#define FEED_SID_MAX 44 /* a stream entry id "<ms>-<seq>", NUL-terminated */

/* Parses a stream entry id "<ms>-<seq>" (decimal, no sign, at most 20
 * digits each) into p's ms and seq. Returns 0, or -1 when malformed. */
int feed_sid_parse(const char *s, size_t len, feed_pos_t *p);

/* Parses an event id "<epoch>:<ms>-<seq>" (epoch a positive decimal).
 * Returns 0, or -1 when malformed. */
int feed_pos_parse(const char *s, size_t len, feed_pos_t *p);

/* Writes p's event id (FEED_ID_MAX bytes) or stream entry id (FEED_SID_MAX
 * bytes) into buf. Returns the length. */
int feed_pos_format(const feed_pos_t *p, char *buf);
int feed_sid_format(const feed_pos_t *p, char *buf);

/* Orders two places of one epoch by their stream entry id: <0, 0, >0. */
int feed_sid_cmp(const feed_pos_t *a, const feed_pos_t *b);

/* FEED_REPLAYED: an entry with no event for clients — an Idempotency-Key
 * retry answered with the first attempt's product (nothing was written;
 * its invalidation only makes sure the first one's is not outrun). */
typedef enum { FEED_CREATED, FEED_UPDATED, FEED_DELETED, FEED_REPLAYED, FEED_RESET } feed_type_t;

/* Why a reset was sent (the clients reload their view). */
#define FEED_REASON_OUTAGE "outage"                   /* the cache's floor raise: which products changed is not known */
#define FEED_REASON_UNKNOWN_OUTCOME "unknown-outcome" /* a write failed after it was sent: it may have been applied */
#define FEED_REASON_TRIMMED "trimmed"       /* the stream lost entries, and none at or before the id to resume from is left */
#define FEED_REASON_EPOCH "epoch"           /* the id is of another epoch: Redis lost the stream */
#define FEED_REASON_UNKNOWN_ID "unknown-id" /* the id is past the stream's last entry */

typedef struct {
    feed_type_t type;
    feed_pos_t pos;
    uint64_t gen;       /* catalog_version: the generation the write's bump made; 0 when unknown */
    int64_t version;    /* the product's version after the write; 0 when unknown */
    int64_t at_ms;      /* when the write was acknowledged; 0 when unknown */
    char product[25];   /* its id (24 lower-case hex digits), or "" */
    char fields[64];    /* updates: changed fields' names, comma-separated, or "" */
    const char *reason; /* a reset's FEED_REASON_*, static */
} feed_event_t;

/* Clears e for a stream entry at pos (its fields follow). */
void feed_event_begin(feed_event_t *e, const feed_pos_t *pos);

/* Takes one field of a stream entry ("gen", "id", "ev", "v", "f", "ep",
 * "at", "reset"; others are ignored, and so are values that are not well
 * formed: a product id that is not 24 hex digits, fields not made of
 * [a-z,]). ep sets e->pos.epoch. */
void feed_event_field(feed_event_t *e, const char *name, size_t nlen, const char *val, size_t vlen);

/* Settles e's type once its fields are read: created, updated or deleted
 * when the entry said so and named a product; a reset otherwise (a floor
 * raise, a write of unknown outcome, an entry from an older writer);
 * replayed when it said so (no event: feed_event_format writes nothing). */
void feed_event_end(feed_event_t *e);

/* A reset at pos, made here (not read from an entry). */
void feed_event_reset(feed_event_t *e, const feed_pos_t *pos, const char *reason, int64_t at_ms);

/* Writes e as one Server-Sent Event into buf (cap bytes): "event:
 * product.<type>" or "event: reset", "id: <event id>", "data: <JSON>"
 * ({"id","version","catalog_version","at"} plus "fields" on updates; a
 * reset: {"reason"}, with "catalog_version", "at" and "id" when known),
 * then a blank line. Returns the length, or 0 when it does not fit (or e
 * is FEED_REPLAYED, which clients never see). */
size_t feed_event_format(const feed_event_t *e, char *buf, size_t cap);

#endif
