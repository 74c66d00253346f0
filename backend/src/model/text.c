#include "model/text.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unistr.h>

char *text_lower(const char *s, size_t len, size_t *out_len)
{
    if (u8_check((const uint8_t *)s, len) != NULL)
        return NULL;
    size_t n = 0;
    /* NULL language: no Turkish/Lithuanian tailoring, like toLowerCase() */
    uint8_t *lc = u8_tolower((const uint8_t *)s, len, NULL, NULL, NULL, &n);
    if (lc == NULL)
        return NULL;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, lc, n);
        out[n] = '\0';
        *out_len = n;
    }
    free(lc);
    return out;
}

size_t text_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}
