/* Unicode text helpers shared by query parsing and product writes. Pure code. */
#ifndef CATALOG_TEXT_H
#define CATALOG_TEXT_H

#include <stddef.h>

/* Lower-cases UTF-8 text with Unicode's full default case mapping (the
 * same mapping as JavaScript's toLowerCase, which mongo-init uses for
 * name_lc), so a search matches however the name was written. Returns a
 * malloc'd NUL-terminated string (caller frees) with its length in
 * *out_len, or NULL when s is not valid UTF-8 (or libunistring fails). */
char *text_lower(const char *s, size_t len, size_t *out_len);

/* Number of code points in valid UTF-8 text. */
size_t text_chars(const char *s, size_t len);

typedef enum {
    TEXT_CLEAN,   /* none of the below */
    TEXT_CONTROL, /* a C0/C1 control (general category Cc) */
    TEXT_BIDI,    /* an explicit bidirectional formatting character: embeddings, overrides, isolates */
} text_flaw_t;

/* Looks for characters a product's text must not hold in valid UTF-8
 * text: controls (Cc; allow_breaks lets tab, LF and CR through) and the
 * explicit bidirectional formatting characters (U+202A..U+202E,
 * U+2066..U+2069), which can make text display in another order than it is
 * stored. The marks LRM, RLM and ALM stay allowed: mixed-direction names
 * need them. Returns the first flaw found, TEXT_CLEAN when none. */
text_flaw_t text_flaw(const char *s, size_t len, int allow_breaks);

/* 1 when valid UTF-8 text shows nothing: every code point is White_Space
 * or Default_Ignorable_Code_Point (U+200B, U+3000, U+FEFF...), or it is empty. */
int text_is_blank(const char *s, size_t len);

#endif
