#include "cache/entry.h"
#include "check.h"

#include <stdlib.h>

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

    char e1[32], e2[32];
    entry_hash_etag("hello", 5, e1);
    entry_hash_etag("hellp", 5, e2);
    CHECK(strlen(e1) == 24 && e1[0] == '"' && e1[23] == '"');
    CHECK(strcmp(e1, e2) != 0);
    entry_hash_etag("hello", 5, e2);
    CHECK_STR(e1, e2);
    return check_report("test_entry");
}
