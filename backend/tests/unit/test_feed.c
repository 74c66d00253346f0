#include "check.h"
#include "model/feed.h"

#include <string.h>

/* Reads the fields of one stream entry (name, value, name, value, ...). */
static void entry(feed_event_t *e, const feed_pos_t *pos, const char *const *kv, size_t n)
{
    feed_event_begin(e, pos);
    for (size_t i = 0; i + 1 < n; i += 2)
        feed_event_field(e, kv[i], strlen(kv[i]), kv[i + 1], strlen(kv[i + 1]));
    feed_event_end(e);
}

static void positions(void)
{
    feed_pos_t p;
    char buf[FEED_ID_MAX];
    CHECK(feed_pos_parse("1718000000123456:1718000000999-3", 32, &p) == 0);
    CHECK(p.epoch == 1718000000123456ULL && p.ms == 1718000000999ULL && p.seq == 3);
    CHECK(feed_pos_format(&p, buf) == 32);
    CHECK_STR(buf, "1718000000123456:1718000000999-3");
    CHECK(feed_sid_format(&p, buf) == 15);
    CHECK_STR(buf, "1718000000999-3");
    CHECK(feed_pos_parse("18446744073709551615:18446744073709551615-18446744073709551615", 62, &p) == 0);
    CHECK(p.epoch == UINT64_MAX && p.seq == UINT64_MAX);
    static const char *const bad[] = {"",
                                      "1",
                                      "1:",
                                      "1:2",
                                      "1:2-",
                                      ":2-3",
                                      "0:2-3",
                                      "01:2-3",
                                      "1:-3",
                                      "1:2-3-4",
                                      "1:2-3 ",
                                      "a:2-3",
                                      "1:2--3",
                                      "1:+2-3",
                                      "18446744073709551616:1-1",
                                      "1:123456789012345678901-1",
                                      "1:2-3\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(feed_pos_parse(bad[i], strlen(bad[i]), &p) == -1);
    CHECK(feed_sid_parse("0-0", 3, &p) == 0 && p.ms == 0 && p.seq == 0);
    CHECK(feed_sid_parse("5", 1, &p) == -1);
    feed_pos_t a = {1, 10, 2}, b = {1, 10, 3}, c = {1, 9, 99};
    CHECK(feed_sid_cmp(&a, &b) < 0 && feed_sid_cmp(&b, &a) > 0 && feed_sid_cmp(&a, &a) == 0 && feed_sid_cmp(&c, &a) < 0);
}

static void events(void)
{
    feed_pos_t pos = {0, 1741944413000ULL, 0};
    feed_event_t e;
    char buf[512];
    static const char *const upd[] = {
        "gen", "1741944400000007", "id", "650000000000000000000001", "ev", "updated",       "v",     "5",
        "f",   "price,stock",      "ep", "1741944400000000",         "at", "1741944413123", "other", "x"};
    entry(&e, &pos, upd, 16);
    CHECK(e.type == FEED_UPDATED && e.pos.epoch == 1741944400000000ULL && e.version == 5 && e.gen == 1741944400000007ULL);
    CHECK(feed_event_format(&e, buf, sizeof(buf)) == strlen(buf));
    CHECK_STR(buf, "event: product.updated\nid: 1741944400000000:1741944413000-0\n"
                   "data: {\"id\":\"650000000000000000000001\",\"version\":5,\"catalog_version\":1741944400000007,"
                   "\"at\":\"2025-03-14T09:26:53.123Z\",\"fields\":[\"price\",\"stock\"]}\n\n");
    CHECK(feed_event_format(&e, buf, 40) == 0); /* does not fit */

    static const char *const del[] = {"gen", "9",  "id", "650000000000000000000001", "ev", "deleted", "v", "6", "f", "", "ep",
                                      "7",   "at", "0"};
    entry(&e, &pos, del, 14);
    feed_event_format(&e, buf, sizeof(buf));
    CHECK_STR(buf, "event: product.deleted\nid: 7:1741944413000-0\ndata: {\"id\":\"650000000000000000000001\",\"version\":6,"
                   "\"catalog_version\":9}\n\n");

    /* a floor raise names no product; a write of unknown outcome names one */
    static const char *const floor[] = {"gen", "10", "reset", "1", "ep", "7", "at", "1741944413123"};
    entry(&e, &pos, floor, 8);
    CHECK(e.type == FEED_RESET && e.pos.epoch == 7);
    feed_event_format(&e, buf, sizeof(buf));
    CHECK_STR(buf, "event: reset\nid: 7:1741944413000-0\ndata: {\"reason\":\"outage\",\"catalog_version\":10,"
                   "\"at\":\"2025-03-14T09:26:53.123Z\"}\n\n");
    static const char *const unknown[] = {"gen", "11", "id", "650000000000000000000002", "ev", "unknown", "v", "", "ep", "7"};
    entry(&e, &pos, unknown, 10);
    feed_event_format(&e, buf, sizeof(buf));
    CHECK_STR(buf, "event: reset\nid: 7:1741944413000-0\ndata: {\"reason\":\"unknown-outcome\",\"id\":\"650000000000000000000002\","
                   "\"catalog_version\":11}\n\n");
    /* an entry of an older writer (no ev), and values that are not well formed */
    static const char *const old[] = {"gen", "12", "id", "650000000000000000000003"};
    entry(&e, &pos, old, 4);
    CHECK(e.type == FEED_RESET && strcmp(e.reason, FEED_REASON_UNKNOWN_OUTCOME) == 0 && e.pos.epoch == 0);
    static const char *const bad[] = {"id", "65000000000000000000000Z", "ev", "created", "v", "1", "f", "a\"b"};
    entry(&e, &pos, bad, 8);
    CHECK(e.type == FEED_RESET && e.product[0] == '\0' && e.fields[0] == '\0');
    static const char *const quote[] = {"id", "650000000000000000000004", "ev", "updated", "v", "2", "f", "name\n"};
    entry(&e, &pos, quote, 8);
    CHECK(e.type == FEED_UPDATED && e.fields[0] == '\0');
    feed_event_format(&e, buf, sizeof(buf));
    CHECK(strstr(buf, "\"fields\":[]}") != NULL);

    /* a reset made here (a resume that cannot be served) */
    feed_pos_t tip = {5, 20, 1};
    feed_event_reset(&e, &tip, FEED_REASON_TRIMMED, 0);
    feed_event_format(&e, buf, sizeof(buf));
    CHECK_STR(buf, "event: reset\nid: 5:20-1\ndata: {\"reason\":\"trimmed\"}\n\n");
}

int main(void)
{
    positions();
    events();
    return check_report("test_feed");
}
