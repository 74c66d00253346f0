#include "model/links.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>

/* The offsets of the Link relations of a page: next and prev when they
 * exist; first (0) and last (the page, aligned with this one, that holds
 * the final match) whenever there is more than one page. */
typedef struct {
    const char *rel;
    int64_t offset;
    int on;
} link_rel_t;

char *links_page_header(const query_t *q, int64_t count, size_t *len)
{
    int64_t lim = q->limit, off = q->offset;
    int many = off > 0 || off + lim < count;
    int64_t last = count <= 0 ? 0 : count - 1 >= off ? off + (count - 1 - off) / lim * lim : (count - 1) / lim * lim;
    link_rel_t rels[] = {
        {"next", off + lim, off + lim < count},
        {"prev", off - lim > 0 ? off - lim : 0, off > 0},
        {"first", 0, many},
        {"last", last, many},
    };
    if (!many)
        return NULL;
    size_t cap = 4 * (4096 + 48);
    char *out = xmalloc(cap), canon[4096];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        if (!rels[i].on)
            continue;
        if (query_canonical(q, rels[i].offset, canon, sizeof(canon)) < 0) {
            free(out);
            return NULL;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s</api/products?%s>; rel=\"%s\"", n ? ", " : "", canon, rels[i].rel);
    }
    *len = n;
    return out;
}
