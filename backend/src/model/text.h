/* Unicode text helpers shared by query parsing and product writes. Pure code. */
#ifndef CATALOG_TEXT_H
#define CATALOG_TEXT_H

#include <stddef.h>

/* Lower-cases UTF-8 text with Unicode's full default case mapping (the
 * same mapping as JavaScript's toLowerCase, which mongo-init uses for
 * name_lc), so a search matches however the name was written. Returns a
 * malloc'd NUL-terminated string (caller frees) with its length in
 * *out_len, or NULL when s is not valid UTF-8 or memory runs out. */
char *text_lower(const char *s, size_t len, size_t *out_len);

/* Number of code points in valid UTF-8 text. */
size_t text_chars(const char *s, size_t len);

#endif
