/* cache/local_table: the in-process cache's table — lookups, the byte
 * bound and least-recently-used eviction, invalidations by key, class and
 * all, tickets refusing an insert an invalidation covers, the age of
 * untracked entries, references outliving an eviction; and
 * tracking_reader_partial on hiredis's reader fed byte by byte. */
#include "cache/local_table.h"
#include "cache/tracking_conn.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stored entry with a body of n bytes (status 200, gen 7). */
static char *make(size_t n, char fill, size_t *len)
{
    char *body = malloc(n);
    memset(body, fill, n);
    char *e = entry_encode(200, 7, "\"t\"", 3, NULL, 0, body, n, len);
    free(body);
    return e;
}

static int put(local_table_t *t, const char *key, local_class_t cls, uint64_t ticket, size_t n, uint64_t now)
{
    size_t len;
    char *e = make(n, key[0], &len);
    int ok = local_table_put(t, key, strlen(key), cls, ticket, e, len, now);
    free(e);
    return ok;
}

static int has(local_table_t *t, const char *key)
{
    local_entry_t *e = local_table_get(t, key, strlen(key), 0, 0);
    if (e != NULL)
        local_entry_release(e);
    return e != NULL;
}

static void test_get_and_bytes(void)
{
    local_table_t *t = local_table_create(1 << 20);
    CHECK(local_table_ticket(t) != 0); /* 0 means "may not fill" to the callers */
    CHECK(put(t, "p:1", LOCAL_PRODUCT, local_table_ticket(t), 100, 0));
    local_entry_t *e = local_table_get(t, "p:1", 3, 0, 0);
    CHECK(e != NULL && e->view.status == 200 && e->view.body_len == 100 && e->view.body[0] == 'p');
    CHECK(e != NULL && e->view.etag_len == 3 && memcmp(e->view.etag, "\"t\"", 3) == 0);
    size_t raw_len = e != NULL ? e->view.raw_len : 0;
    local_entry_release(e);
    CHECK(!has(t, "p:2"));
    local_table_stats_t st;
    local_table_stats(t, &st);
    CHECK(st.entries == 1 && st.bytes == sizeof(local_entry_t) + 3 + raw_len);
    CHECK(!local_table_put(t, "bad", 3, LOCAL_LIST, local_table_ticket(t), "junk", 4, 0)); /* not an entry */
    local_table_free(t);
}

static void test_lru_bound(void)
{
    size_t one = sizeof(local_entry_t) + 2 + 1000 + 40;
    local_table_t *t = local_table_create(10 * one);
    char key[8];
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof(key), "%c%d", 'a' + i % 26, i);
        CHECK(put(t, key, LOCAL_LIST, local_table_ticket(t), 1000, 0));
        if (i == 5)
            CHECK(has(t, "a0")); /* touched: a0 is now recent */
    }
    local_table_stats_t st;
    local_table_stats(t, &st);
    CHECK(st.bytes <= st.max_bytes);
    CHECK(st.evictions == 30 - st.entries);
    CHECK(has(t, "d29") && !has(t, "b1"));
    CHECK(!put(t, "huge", LOCAL_LIST, local_table_ticket(t), 10 * one, 0)); /* above a quarter of the bound */
    local_table_free(t);
}

static void test_invalidations_and_tickets(void)
{
    local_table_t *t = local_table_create(1 << 20);
    put(t, "p:1", LOCAL_PRODUCT, local_table_ticket(t), 10, 0);
    put(t, "p:2", LOCAL_PRODUCT, local_table_ticket(t), 10, 0);
    put(t, "l:a", LOCAL_LIST, local_table_ticket(t), 10, 0);
    put(t, "c", LOCAL_CATEGORIES, local_table_ticket(t), 10, 0);
    uint64_t before = local_table_ticket(t);
    local_table_drop_key(t, "p:1", 3);
    CHECK(!has(t, "p:1") && has(t, "p:2") && has(t, "l:a"));
    CHECK(!put(t, "p:1", LOCAL_PRODUCT, before, 10, 0)); /* a reply read before the drop */
    CHECK(put(t, "p:2", LOCAL_PRODUCT, before, 10, 0));  /* another key: not covered */
    CHECK(put(t, "p:1", LOCAL_PRODUCT, local_table_ticket(t), 10, 0));
    before = local_table_ticket(t);
    local_table_drop_class(t, LOCAL_LIST);
    CHECK(!has(t, "l:a") && has(t, "c") && has(t, "p:1"));
    CHECK(!put(t, "l:b", LOCAL_LIST, before, 10, 0));
    CHECK(put(t, "p:3", LOCAL_PRODUCT, before, 10, 0));
    before = local_table_ticket(t);
    local_table_clear(t);
    CHECK(!has(t, "c") && !has(t, "p:1"));
    CHECK(!put(t, "c", LOCAL_CATEGORIES, before, 10, 0));
    local_table_stats_t st;
    local_table_stats(t, &st);
    CHECK(st.entries == 0 && st.bytes == 0 && st.refused == 3);
    local_table_free(t);
}

static void test_age_and_refs(void)
{
    local_table_t *t = local_table_create(1 << 20);
    put(t, "l:a", LOCAL_LIST, local_table_ticket(t), 10, 1000);
    put(t, "p:1", LOCAL_PRODUCT, local_table_ticket(t), 10, 1000);
    local_entry_t *e = local_table_get(t, "l:a", 3, 1500, 1000);
    CHECK(e != NULL);
    CHECK(local_table_get(t, "l:a", 3, 2000, 1000) == NULL); /* a list 1000 ms old: asked of Redis again */
    local_entry_t *p = local_table_get(t, "p:1", 3, 1500, 1000);
    CHECK(p != NULL);
    CHECK(local_table_get(t, "p:1", 3, 2000, 1000) == NULL); /* a product too: its expiry in Redis is not reported until touched */
    local_table_clear(t);
    CHECK(e->view.body_len == 10 && e->view.body[0] == 'l'); /* still readable by its holder */
    local_entry_release(e);
    local_entry_release(p);
    local_table_free(t);
}

static void test_partial(void)
{
    const char msg[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$14\r\n{products}:gen\r\n";
    redisReader *r = redisReaderCreate();
    void *reply = NULL;
    CHECK(!tracking_reader_partial(r));
    for (size_t i = 0; i + 1 < sizeof(msg); i++) {
        redisReaderFeed(r, msg + i, 1);
        CHECK(redisReaderGetReply(r, &reply) == REDIS_OK);
        if (i + 2 < sizeof(msg)) {
            CHECK(reply == NULL);
            CHECK(tracking_reader_partial(r));
        }
    }
    CHECK(reply != NULL);
    freeReplyObject(reply);
    CHECK(redisReaderGetReply(r, &reply) == REDIS_OK && reply == NULL);
    CHECK(!tracking_reader_partial(r));
    redisReaderFree(r);
}

int main(void)
{
    test_get_and_bytes();
    test_lru_bound();
    test_invalidations_and_tickets();
    test_age_and_refs();
    test_partial();
    return check_report("local_table");
}
