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
    return check_report("test_text");
}
