#include "model/text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
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
    char *out = xmalloc(n + 1);
    memcpy(out, lc, n);
    out[n] = '\0';
    *out_len = n;
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

text_flaw_t text_flaw(const char *s, size_t len, int allow_breaks)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    while (p < end) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, p, (size_t)(end - p));
        p += n > 0 ? n : 1;
        if (uc_is_general_category(uc, UC_CATEGORY_Cc) && !(allow_breaks && (uc == '\t' || uc == '\n' || uc == '\r')))
            return TEXT_CONTROL;
        if ((uc >= 0x202A && uc <= 0x202E) || (uc >= 0x2066 && uc <= 0x2069))
            return TEXT_BIDI;
    }
    return TEXT_CLEAN;
}

int text_is_blank(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;
    while (p < end) {
        ucs4_t uc;
        int n = u8_mbtouc(&uc, p, (size_t)(end - p));
        p += n > 0 ? n : 1;
        if (!uc_is_property_white_space(uc) && !uc_is_property_default_ignorable_code_point(uc))
            return 0;
    }
    return 1;
}
