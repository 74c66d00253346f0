/* A minimal assertion helper for the unit tests: CHECK keeps going and
 * counts failures; main returns check_failures() != 0. */
#ifndef CATALOG_CHECK_H
#define CATALOG_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_count;

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond)) {                                                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);                                               \
            check_failed_count++;                                                                                                  \
        }                                                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                                                       \
    do {                                                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                                                      \
        if (g_ == NULL || strcmp(g_, w_) != 0) {                                                                                   \
            fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, __LINE__, g_ ? g_ : "(null)", w_);                           \
            check_failed_count++;                                                                                                  \
        }                                                                                                                          \
    } while (0)

static inline int check_report(const char *name)
{
    if (check_failed_count)
        fprintf(stderr, "%s: %d check(s) failed\n", name, check_failed_count);
    else
        printf("%s: ok\n", name);
    return check_failed_count != 0;
}

#endif
