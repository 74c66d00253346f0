#include "cache/entry.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* Checks an accepted view covers buf[0..len) exactly. */
static void check_view(const entry_view_t *v, const char *buf, size_t len)
{
    CHECK(v->etag >= buf + 16 && v->etag <= buf + len); /* after the shortest header */
    CHECK(v->link == v->etag + v->etag_len);
    CHECK(v->body == v->link + v->link_len);
    CHECK(v->body + v->body_len == buf + len);
    CHECK(v->status == 200 || v->status == 404 || v->status == 400);
}

/* len bytes ending right before a PROT_NONE page: a read past the end faults
 * in any build (GCC folds memcmp with a constant size into a load ASan does
 * not check). */
#define GUARD_ROOM (4 * 4096)
static char *guarded_copy(const char *s, size_t len)
{
    static char *base;
    if (base == NULL) {
        base = mmap(NULL, GUARD_ROOM + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED || mprotect(base + GUARD_ROOM, 4096, PROT_NONE) != 0)
            abort();
    }
    if (len > GUARD_ROOM)
        abort();
    char *p = base + GUARD_ROOM - len;
    if (len)
        memcpy(p, s, len);
    return p;
}

/* Decodes copies of s of exactly len bytes, before a guard page and on the
 * heap (ASan sees a read before or past it); when accepted, checks the view
 * covers the buffer exactly and returns its fields (not its pointers). */
static int decode_exact(const char *s, size_t len, entry_view_t *out)
{
    entry_view_t v;
    memset(&v, 0, sizeof(v));
    char *g = guarded_copy(s, len);
    int rc = entry_decode(g, len, &v);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_view(&v, g, len);

    char *buf = malloc(len ? len : 1);
    if (len)
        memcpy(buf, s, len);
    entry_view_t hv;
    memset(&hv, 0, sizeof(hv));
    CHECK(entry_decode(buf, len, &hv) == rc);
    if (rc == 0) {
        check_view(&hv, buf, len);
        if (out != NULL) {
            *out = hv;
            out->etag = out->link = out->body = NULL; /* the copy is gone */
        }
    }
    free(buf);
    return rc;
}

static int decode_str(const char *s)
{
    return decode_exact(s, strlen(s), NULL);
}

/* Encodes, decodes, and compares every field. */
static void round_trip(int status, uint64_t gen, const char *etag, size_t el, const char *link, size_t ll, const char *body,
                       size_t bl)
{
    size_t len = 0;
    char *b = entry_encode(status, gen, etag, el, link, ll, body, bl, &len);
    CHECK(b != NULL);
    if (b == NULL)
        return;
    entry_view_t v;
    int rc = entry_decode(b, len, &v);
    CHECK(rc == 0);
    if (rc == 0) {
        CHECK(v.status == status && v.gen == gen);
        CHECK(v.etag_len == el && (el == 0 || memcmp(v.etag, etag, el) == 0));
        CHECK(v.link_len == ll && (ll == 0 || memcmp(v.link, link, ll) == 0));
        CHECK(v.body_len == bl && (bl == 0 || memcmp(v.body, body, bl) == 0));
        CHECK(v.body + v.body_len == b + len);
    }
    CHECK(decode_exact(b, len, NULL) == 0);
    /* every shorter prefix and every longer buffer is refused */
    for (size_t cut = 0; cut < len; cut++)
        CHECK(decode_exact(b, cut, NULL) == -1);
    char *longer = malloc(len + 3);
    memcpy(longer, b, len);
    memcpy(longer + len, "\n\0x", 3);
    for (size_t extra = 1; extra <= 3; extra++)
        CHECK(decode_exact(longer, len + extra, NULL) == -1);
    free(longer);
    free(b);
}

/* Every byte of the header replaced by every value: refused, or a well-formed
 * entry that still covers the buffer exactly (checked in decode_exact). */
static void mutate_header(void)
{
    size_t len;
    char *b = entry_encode(200, 1234567, "\"etag\"", 6, "<l>", 3, "{\"x\":1}", 7, &len);
    size_t hl = (size_t)((const char *)memchr(b, '\n', len) - b) + 1;
    char *m = malloc(len);
    size_t accepted = 0;
    for (size_t i = 0; i < hl; i++) {
        for (int c = 0; c < 256; c++) {
            if ((unsigned char)b[i] == c)
                continue;
            memcpy(m, b, len);
            m[i] = (char)c;
            entry_view_t v;
            if (decode_exact(m, len, &v) == 0) {
                accepted++;
                /* only another gen, or 200 -> 400 (both well-formed statuses),
                 * may pass: the magic, separators and lengths must not */
                if (i == 4) {
                    CHECK(c == '4' && v.status == 400 && v.gen == 1234567);
                } else {
                    CHECK(i >= 8 && i < 15); /* "CE1 200 " is 8 bytes; gen is 7 digits */
                    CHECK(v.gen != 1234567 && v.status == 200);
                }
                CHECK(v.etag_len == 6 && v.link_len == 3 && v.body_len == 7);
            }
        }
    }
    CHECK(accepted == 7 * 9 + 1); /* each gen digit to each other digit, and 400 */
    free(m);
    free(b);
}

int main(void)
{
    size_t len;
    char *b = entry_encode(200, 1763830000123ull, "\"abc\"", 5, "</x>; rel=\"next\"", 16, "{\"a\":1}", 7, &len);
    entry_view_t v;
    CHECK(entry_decode(b, len, &v) == 0);
    CHECK(v.status == 200 && v.gen == 1763830000123ull && v.etag_len == 5 && memcmp(v.etag, "\"abc\"", 5) == 0);
    CHECK(v.link_len == 16 && memcmp(v.link, "</x>; rel=\"next\"", 16) == 0);
    CHECK(v.body_len == 7 && memcmp(v.body, "{\"a\":1}", 7) == 0);
    /* truncated, extended, junk, old format: all refused */
    CHECK(entry_decode(b, len - 1, &v) == -1);
    char *longer = malloc(len + 1);
    memcpy(longer, b, len);
    longer[len] = 'x';
    CHECK(entry_decode(longer, len + 1, &v) == -1);
    free(longer);
    CHECK(entry_decode("{\"a\":1}", 7, &v) == -1);
    CHECK(entry_decode("CE1 200 0 5 0", 13, &v) == -1);
    CHECK(entry_decode("CE1 500 0 0 0 0\n", 16, &v) == -1);
    CHECK(entry_decode("CE1 200 0 0 0 0\n", 16, &v) == -1);
    CHECK(entry_decode("CE1 200 0 0 0\n", 14, &v) == -1); /* the old header, without gen */

    CHECK(entry_decode("", 0, &v) == -1);
    free(b);
    /* a cached 404 has no body */
    b = entry_encode(404, 0, NULL, 0, NULL, 0, NULL, 0, &len);
    CHECK(entry_decode(b, len, &v) == 0 && v.status == 404 && v.body_len == 0);
    free(b);

    /* round trips: empty parts, binary bytes, header-like bytes in the parts, the largest gen */
    static const char bin[] = {'C', 'E', '1', ' ', '\n', '\0', (char)0xff, '\r', '9', ' '};
    round_trip(200, 0, "\"ab\"", 4, NULL, 0, NULL, 0);
    round_trip(200, 1, "\"a b\n\"", 6, "</api/products?offset=20>; rel=\"next\"", 37, "[]", 2);
    round_trip(200, 9999999999999999999ull, bin, sizeof(bin), bin, sizeof(bin), bin, sizeof(bin));
    round_trip(404, 0, NULL, 0, NULL, 0, NULL, 0);
    round_trip(400, 5, NULL, 0, NULL, 0, "books", 5);
    round_trip(404, 42, "\"x\"", 3, NULL, 0, "{\"status\":404}", 14);
    size_t big_len = 1 << 20;
    char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 31 + 7);
    size_t blen;
    char *bb = entry_encode(200, 77, "\"e\"", 3, NULL, 0, big, big_len, &blen);
    CHECK(entry_decode(bb, blen, &v) == 0 && v.body_len == big_len && memcmp(v.body, big, big_len) == 0);
    CHECK(entry_decode(bb, blen - 1, &v) == -1);
    free(bb);
    free(big);

    mutate_header();

    /* the smallest well-formed entries */
    CHECK(decode_str("CE1 404 0 0 0 0\n") == 0);
    CHECK(decode_str("CE1 200 0 2 0 0\n\"\"") == 0);
    /* wrong or damaged magic */
    CHECK(decode_str("") == -1);
    CHECK(decode_str("C") == -1);
    CHECK(decode_str("CE1") == -1);
    CHECK(decode_str("CE1 ") == -1);
    CHECK(decode_str("CE2 404 0 0 0 0\n") == -1);
    CHECK(decode_str("ce1 404 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1\t404 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1  404 0 0 0 0\n") == -1);
    CHECK(decode_str(" CE1 404 0 0 0 0\n") == -1);
    CHECK(decode_exact("\0E1 404 0 0 0 0\n", 16, NULL) == -1);
    /* truncated or missing header parts, missing newline */
    CHECK(decode_str("CE1 404") == -1);
    CHECK(decode_str("CE1 404 0 0 0 0") == -1);
    CHECK(decode_str("CE1 404 0 0 0 0 ") == -1);
    CHECK(decode_str("CE1 404 0 0 0 0\r\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0  0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 \n") == -1);
    CHECK(decode_exact("CE1 404 0 0 0 0\0", 16, NULL) == -1);
    CHECK(decode_exact("CE1 404 0 0\0 0 0\n", 18, NULL) == -1);
    /* non-digits and signs */
    CHECK(decode_str("CE1 4o4 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 x 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 +0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 -0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 0x0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 1e0\nx") == -1);
    CHECK(decode_str("CE1 404 -1 0 0 0\n") == -1);
    /* statuses other than 200/404/400; a 200 needs an ETag of at least 2 bytes */
    CHECK(decode_str("CE1 0 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1 304 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1 401 0 0 0 0\n") == -1);
    CHECK(decode_str("CE1 400 0 0 0 5\nbooks") == 0); /* a list naming an unknown category: the body is its slug */
    CHECK(decode_str("CE1 200 0 1 0 0\nx") == -1);
    CHECK(decode_str("CE1 4294967496 0 0 0 0\n") == -1); /* 200 + 2^32 */
    /* lengths past the end, or short of it */
    CHECK(decode_str("CE1 404 0 1 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 1 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 1\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 1\nab") == -1);
    CHECK(decode_str("CE1 200 0 2 2 2\nabcde") == -1);
    CHECK(decode_str("CE1 200 0 2 2 2\nabcdef") == 0);
    CHECK(decode_str("CE1 200 0 2 2 2\nabcdefg") == -1);
    /* huge numbers: 19 digits is the most a field may have (the largest gen
     * Redis may hold); 20 digits, and values that wrap around 2^64 to a
     * fitting length, are refused */
    CHECK(decode_str("CE1 404 9999999999999999999 0 0 0\n") == 0);
    CHECK(decode_str("CE1 404 18446744073709551615 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 99999999999999999999 0 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 0 0 18446744073709551617\nx") == -1); /* 2^64 + 1 */
    CHECK(decode_str("CE1 200 0 18446744073709551618 0 0\nab") == -1);
    CHECK(decode_str("CE1 404 0 9999999999999999999 0 0\n") == -1);
    CHECK(decode_str("CE1 404 0 6148914691236517206 6148914691236517206 6148914691236517206\nxy") == -1); /* sum wraps to 2 */
    CHECK(decode_str("CE1 404 0 0 0 0000000000000000001\nx") == 0);   /* leading zeros: 19 digits */
    CHECK(decode_str("CE1 404 0 0 0 00000000000000000001\nx") == -1); /* 20 */
    /* the header is read from the first 96 bytes only (the encoder writes at
     * most 92): one ending at byte 96 is read, one ending at 97 refused */
    char lh[200];
    int n = snprintf(lh, sizeof(lh), "CE1 %019d %019d %019d %019d %011d\n", 404, 0, 0, 0, 0);
    CHECK(n == 96 && decode_exact(lh, (size_t)n, NULL) == 0);
    n = snprintf(lh, sizeof(lh), "CE1 %019d %019d %019d %019d %012d\n", 404, 0, 0, 0, 0);
    CHECK(n == 97 && decode_exact(lh, (size_t)n, NULL) == -1);
    n = snprintf(lh, sizeof(lh), "CE1 404 %019d %019d %019d %019d\n", 0, 0, 0, 0);
    CHECK(decode_exact(lh, (size_t)n, NULL) == 0);
    /* JSON as stored before this format, and old headers */
    CHECK(decode_str("{\"items\":[]}") == -1);
    CHECK(decode_str("CE0 404 0 0 0 0\n") == -1);

    /* TTL jitter: pct 0 keeps the TTL; otherwise within [ttl - ttl*pct/100, ttl], at least 1 */
    CHECK(entry_jittered_ttl(300, 0, 123456789) == 300);
    for (uint64_t r = 0; r < 1000; r++) {
        unsigned t3 = entry_jittered_ttl(300, 3, r * 2654435761u);
        CHECK(t3 >= 291 && t3 <= 300);
    }
    CHECK(entry_jittered_ttl(300, 3, 9) == 291 && entry_jittered_ttl(300, 3, 10) == 300);
    CHECK(entry_jittered_ttl(1, 3, 5) == 1);
    CHECK(entry_jittered_ttl(86400 * 30, 3, UINT64_MAX) >= 86400 * 30 - 77760);
    unsigned seen_min = 300, seen_max = 0;
    for (uint64_t r = 0; r < 100; r++) {
        unsigned t3 = entry_jittered_ttl(300, 3, r);
        seen_min = t3 < seen_min ? t3 : seen_min;
        seen_max = t3 > seen_max ? t3 : seen_max;
    }
    CHECK(seen_min == 291 && seen_max == 300); /* the whole range is used */

    char e1[32], e2[32];
    entry_hash_etag("hello", 5, e1);
    entry_hash_etag("hellp", 5, e2);
    CHECK(strlen(e1) == 24 && e1[0] == '"' && e1[23] == '"');
    CHECK(strcmp(e1, e2) != 0);
    entry_hash_etag("hello", 5, e2);
    CHECK_STR(e1, e2);
    return check_report("test_entry");
}
