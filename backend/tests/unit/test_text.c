#include "check.h"
#include "model/text.h"

#include <stdlib.h>

static void lower_is(const char *in, const char *want)
{
    size_t n;
    char *got = text_lower(in, strlen(in), &n);
    CHECK_STR(got, want);
    CHECK(got == NULL || n == strlen(want));
    free(got);
}

int main(void)
{
    /* the mapping of JavaScript's toLowerCase() */
    lower_is("Hello World", "hello world");
    lower_is("ÉCOLE Straße", "école straße");
    lower_is("ΟΔΥΣΣΕΥΣ", "οδυσσευς"); /* final sigma */
    lower_is("İstanbul", "i\xcc\x87stanbul");
    lower_is("", "");
    size_t n;
    CHECK(text_lower("\xff", 1, &n) == NULL);
    CHECK(text_chars("héllo", strlen("héllo")) == 5);
    /* flaws: Cc (C0, DEL, C1), explicit bidi formatting; marks and breaks as allowed */
#define FLAW(s, br) text_flaw(s, strlen(s), br)
    CHECK(FLAW("Desk lamp", 0) == TEXT_CLEAN);
    CHECK(FLAW("a\x01b", 0) == TEXT_CONTROL);
    CHECK(FLAW("a\x7f", 0) == TEXT_CONTROL);
    CHECK(FLAW("a\xc2\x85"
               "b",
               0) == TEXT_CONTROL);              /* U+0085 NEL */
    CHECK(FLAW("a\xc2\x9f", 1) == TEXT_CONTROL); /* U+009F */
    CHECK(FLAW("a\tb\nc\r", 1) == TEXT_CLEAN);
    CHECK(FLAW("a\tb", 0) == TEXT_CONTROL);
    CHECK(FLAW("abc\xe2\x80\xae"
               "dcba",
               0) == TEXT_BIDI);                              /* U+202E RLO */
    CHECK(FLAW("\xe2\x80\xaa", 1) == TEXT_BIDI);              /* U+202A LRE */
    CHECK(FLAW("\xe2\x81\xa6x\xe2\x81\xa9", 0) == TEXT_BIDI); /* U+2066 LRI .. U+2069 PDI */
    CHECK(FLAW("\xd7\xa9\xe2\x80\x8f 12", 0) == TEXT_CLEAN);  /* U+200F RLM is a mark, allowed */
    CHECK(FLAW("caf\xc3\xa9"
               " \xe2\x80\x8b",
               0) == TEXT_CLEAN); /* U+200B is no control (but blank alone) */
    /* blank: White_Space or Default_Ignorable only */
#define BLANK(s) text_is_blank(s, strlen(s))
    CHECK(BLANK(""));
    CHECK(BLANK("   "));
    CHECK(BLANK("\xc2\xa0"));                  /* U+00A0 */
    CHECK(BLANK("\xe2\x80\x8b\xe2\x80\x8b"));  /* U+200B ZERO WIDTH SPACE */
    CHECK(BLANK("\xe3\x80\x80"));              /* U+3000 IDEOGRAPHIC SPACE */
    CHECK(BLANK("\xef\xbb\xbf \xe2\x80\x8d")); /* U+FEFF, U+200D */
    CHECK(BLANK("\xe1\x85\x9f"));              /* U+115F HANGUL CHOSEONG FILLER (ignorable) */
    CHECK(!BLANK(" a "));
    CHECK(!BLANK("\xe2\x80\x8b."));
    return check_report("test_text");
}
