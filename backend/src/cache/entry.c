#include "cache/entry.h"
#include "xalloc.h"

#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENTRY_MAGIC "CE1 "
#define ENTRY_HEADER_MAX 96

char *entry_encode(int status, uint64_t gen, const char *etag, size_t etag_len, const char *link, size_t link_len, const char *body,
                   size_t body_len, size_t *len)
{
    char head[ENTRY_HEADER_MAX];
    int hl = snprintf(head, sizeof(head), ENTRY_MAGIC "%d %llu %zu %zu %zu\n", status, (unsigned long long)gen, etag_len, link_len,
                      body_len);
    size_t total = (size_t)hl + etag_len + link_len + body_len;
    char *buf = xmalloc(total);
    char *p = buf;
    memcpy(p, head, (size_t)hl);
    p += hl;
    if (etag_len)
        memcpy(p, etag, etag_len);
    p += etag_len;
    if (link_len)
        memcpy(p, link, link_len);
    p += link_len;
    if (body_len)
        memcpy(p, body, body_len);
    *len = total;
    return buf;
}

/* Reads a decimal up to the delimiter; returns a pointer past it or NULL. */
static const char *read_num(const char *p, const char *end, char delim, uint64_t *out)
{
    uint64_t n = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') {
        if (p - start >= 19)
            return NULL;
        n = n * 10 + (uint64_t)(*p - '0');
        p++;
    }
    if (p == start || p >= end || *p != delim)
        return NULL;
    *out = n;
    return p + 1;
}

int entry_decode(const char *buf, size_t len, entry_view_t *view)
{
    const char *end = buf + (len < ENTRY_HEADER_MAX ? len : ENTRY_HEADER_MAX);
    uint64_t status, gen, el, ll, bl;
    if (len < sizeof(ENTRY_MAGIC) - 1 || memcmp(buf, ENTRY_MAGIC, sizeof(ENTRY_MAGIC) - 1) != 0)
        return -1;
    const char *p = buf + sizeof(ENTRY_MAGIC) - 1;
    if ((p = read_num(p, end, ' ', &status)) == NULL || (p = read_num(p, end, ' ', &gen)) == NULL ||
        (p = read_num(p, end, ' ', &el)) == NULL || (p = read_num(p, end, ' ', &ll)) == NULL ||
        (p = read_num(p, end, '\n', &bl)) == NULL)
        return -1;
    size_t hl = (size_t)(p - buf);
    if (status != 200 && status != 404 && status != 400)
        return -1;
    if (el > len || ll > len || bl > len || hl + el + ll + bl != len)
        return -1;
    if (status == 200 && el < 2)
        return -1;
    view->status = (int)status;
    view->gen = gen;
    view->etag = p;
    view->etag_len = el;
    view->link = p + el;
    view->link_len = ll;
    view->body = p + el + ll;
    view->body_len = bl;
    view->raw = buf;
    view->raw_len = len;
    return 0;
}

int entry_hash_etag(const char *body, size_t len, char *buf)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    /* 16 bytes (128 bits) are plenty to tell versions of one resource apart */
    int o = 0;
    buf[o++] = '"';
    for (int i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)md[i] << 16 | (uint32_t)(i + 1 < 16 ? md[i + 1] : 0) << 8 | (uint32_t)(i + 2 < 16 ? md[i + 2] : 0);
        int chars = i + 2 < 16 ? 4 : (i + 1 < 16 ? 3 : 2);
        for (int k = 0; k < chars; k++)
            buf[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return o;
}

unsigned entry_jittered_ttl(unsigned ttl, unsigned pct, uint64_t random)
{
    unsigned span = (unsigned)((uint64_t)ttl * pct / 100);
    unsigned cut = span ? (unsigned)(random % (span + 1)) : 0;
    return ttl > cut ? ttl - cut : 1;
}

uint64_t entry_parse_gen(const char *s, size_t len)
{
    if (len == 0 || len > 19 || s[0] == '0')
        return 0;
    uint64_t g = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        g = g * 10 + (uint64_t)(s[i] - '0');
    }
    return g;
}
