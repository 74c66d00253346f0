/* RFC 8288 Link headers of list pages, relative, with the canonical query. Pure code. */
#ifndef CATALOG_LINKS_H
#define CATALOG_LINKS_H

#include "model/query.h"

#include <stddef.h>
#include <stdint.h>

/* Builds the Link header value for a list page (rel="next" when more
 * items follow, rel="prev" when offset > 0, rel="first" and rel="last"
 * with either) into a malloc'd string, or returns NULL when the page is
 * the only one. *len gets its length. */
char *links_page_header(const query_t *q, int64_t count, size_t *len);

#endif
