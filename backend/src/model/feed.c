#include "model/feed.h"

#include "model/product.h"

#include <stdio.h>
#include <string.h>

/* Reads a decimal at s[*i..len) up to stop (or the end) into *out: 1..20
 * digits, no overflow. Advances *i past the digits. Returns 0 or -1. */
static int read_u64(const char *s, size_t len, size_t *i, char stop, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    for (; *i < len && s[*i] != stop; (*i)++) {
        unsigned d = (unsigned)(s[*i] - '0');
        if (d > 9 || *i - start >= 20 || v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return *i > start ? 0 : -1;
}

int feed_sid_parse(const char *s, size_t len, feed_pos_t *p)
{
    size_t i = 0;
    if (read_u64(s, len, &i, '-', &p->ms) != 0 || i == len)
        return -1;
    i++;
    return read_u64(s, len, &i, '\0', &p->seq) == 0 && i == len ? 0 : -1;
}

int feed_pos_parse(const char *s, size_t len, feed_pos_t *p)
{
    size_t i = 0;
    if (read_u64(s, len, &i, ':', &p->epoch) != 0 || i == len || p->epoch == 0 || s[0] == '0')
        return -1;
    i++;
    return feed_sid_parse(s + i, len - i, p);
}

int feed_pos_format(const feed_pos_t *p, char *buf)
{
    return snprintf(buf, FEED_ID_MAX, "%llu:%llu-%llu", (unsigned long long)p->epoch, (unsigned long long)p->ms,
                    (unsigned long long)p->seq);
}

int feed_sid_format(const feed_pos_t *p, char *buf)
{
    return snprintf(buf, FEED_SID_MAX, "%llu-%llu", (unsigned long long)p->ms, (unsigned long long)p->seq);
}

int feed_sid_cmp(const feed_pos_t *a, const feed_pos_t *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void feed_event_begin(feed_event_t *e, const feed_pos_t *pos)
{
    memset(e, 0, sizeof(*e));
    e->pos = *pos;
    e->type = FEED_RESET; /* until an entry says what it is */
    e->reason = "";
}

/* 1 when v is made only of the characters of set (and not empty). */
static int only(const char *v, size_t len, const char *set)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (v[i] == '\0' || strchr(set, v[i]) == NULL)
            return 0;
    return 1;
}

/* Parses a stream field's decimal (no sign); 0 when malformed. */
static uint64_t field_u64(const char *v, size_t len)
{
    uint64_t n = 0;
    size_t i = 0;
    return read_u64(v, len, &i, '\0', &n) == 0 ? n : 0;
}

void feed_event_field(feed_event_t *e, const char *name, size_t nlen, const char *val, size_t vlen)
{
    static const char *const types[] = {
        [FEED_CREATED] = "created", [FEED_UPDATED] = "updated", [FEED_DELETED] = "deleted", [FEED_REPLAYED] = "replayed"};
#define IS(s) (nlen == sizeof(s) - 1 && memcmp(name, s, nlen) == 0)
    if (IS("gen")) {
        e->gen = field_u64(val, vlen);
    } else if (IS("v")) {
        e->version = (int64_t)(field_u64(val, vlen) & INT64_MAX);
    } else if (IS("at")) {
        e->at_ms = (int64_t)(field_u64(val, vlen) & INT64_MAX);
    } else if (IS("ep")) {
        uint64_t ep = field_u64(val, vlen);
        if (ep != 0)
            e->pos.epoch = ep;
    } else if (IS("reset")) {
        e->reason = FEED_REASON_OUTAGE;
    } else if (IS("id") && vlen == 24 && only(val, vlen, "0123456789abcdef")) {
        memcpy(e->product, val, 24);
        e->product[24] = '\0';
    } else if (IS("f") && vlen < sizeof(e->fields) && only(val, vlen, "abcdefghijklmnopqrstuvwxyz_,")) {
        memcpy(e->fields, val, vlen);
        e->fields[vlen] = '\0';
    } else if (IS("ev")) {
        for (int t = FEED_CREATED; t <= FEED_REPLAYED; t++)
            if (vlen == strlen(types[t]) && memcmp(val, types[t], vlen) == 0)
                e->type = (feed_type_t)t;
    }
#undef IS
}

void feed_event_end(feed_event_t *e)
{
    if (e->type != FEED_RESET && e->product[0] != '\0' && e->version > 0 && e->reason[0] == '\0')
        return;
    e->type = FEED_RESET;
    if (e->reason[0] == '\0')
        e->reason = FEED_REASON_UNKNOWN_OUTCOME;
    if (strcmp(e->reason, FEED_REASON_OUTAGE) == 0)
        e->product[0] = '\0';
    e->version = 0;
    e->fields[0] = '\0';
}

void feed_event_reset(feed_event_t *e, const feed_pos_t *pos, const char *reason, int64_t at_ms)
{
    feed_event_begin(e, pos);
    e->reason = reason;
    e->at_ms = at_ms;
}

/* Appends the fields' names as a JSON array: "price,stock" → ["price","stock"]. */
static int fields_json(const char *fields, char *out, size_t cap)
{
    int n = snprintf(out, cap, "[");
    for (const char *p = fields; *p != '\0' && n > 0 && (size_t)n < cap;) {
        size_t l = strcspn(p, ",");
        if (l != 0)
            n += snprintf(out + n, cap - (size_t)n, "%s\"%.*s\"", n > 1 ? "," : "", (int)l, p);
        p += l + (p[l] == ',');
    }
    if (n > 0 && (size_t)n < cap)
        n += snprintf(out + n, cap - (size_t)n, "]");
    return n;
}

size_t feed_event_format(const feed_event_t *e, char *buf, size_t cap)
{
    static const char *const names[] = {[FEED_CREATED] = "product.created",
                                        [FEED_UPDATED] = "product.updated",
                                        [FEED_DELETED] = "product.deleted",
                                        [FEED_RESET] = "reset"};
    if (e->type == FEED_REPLAYED)
        return 0;
    char id[FEED_ID_MAX], at[32], fields[160] = "", gen[48] = "", when[48] = "", product[40] = "";
    feed_pos_format(&e->pos, id);
    product_format_time(e->at_ms, at);
    if (e->gen != 0)
        snprintf(gen, sizeof(gen), ",\"catalog_version\":%llu", (unsigned long long)e->gen);
    if (e->at_ms != 0)
        snprintf(when, sizeof(when), ",\"at\":\"%s\"", at);
    int n;
    if (e->type == FEED_RESET) {
        if (e->product[0] != '\0')
            snprintf(product, sizeof(product), ",\"id\":\"%s\"", e->product);
        n = snprintf(buf, cap, "event: reset\nid: %s\ndata: {\"reason\":\"%s\"%s%s%s}\n\n", id, e->reason, product, gen, when);
    } else {
        if (e->type == FEED_UPDATED) {
            memcpy(fields, ",\"fields\":", 10);
            fields_json(e->fields, fields + 10, sizeof(fields) - 10);
        }
        n = snprintf(buf, cap, "event: %s\nid: %s\ndata: {\"id\":\"%s\",\"version\":%lld%s%s%s}\n\n", names[e->type], id,
                     e->product, (long long)e->version, gen, when, fields);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
