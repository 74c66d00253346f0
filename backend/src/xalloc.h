/* The allocation policy of the whole backend: out of memory aborts, as
 * h2o does (h2o_mem_alloc "dies if impossible") and Redis does (zmalloc).
 * Every allocation goes through these; no call site checks for NULL.
 * Memory that lives with a request comes from its pool instead
 * (h2o_mem_alloc_pool) and is never freed by hand. */
#ifndef CATALOG_XALLOC_H
#define CATALOG_XALLOC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the size that could not be had and aborts. */
_Noreturn static inline void xalloc_die(size_t n)
{
    fprintf(stderr, "catalog-backend: out of memory (%zu bytes)\n", n);
    abort();
}

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p == NULL)
        xalloc_die(n);
    return p;
}

static inline void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count != 0 ? count : 1, size != 0 ? size : 1);
    if (p == NULL)
        xalloc_die(count * size);
    return p;
}

/* Zeroed memory for count objects of size bytes, aligned to align (a power
 * of two, e.g. a cache line), freed with free(). */
static inline void *xcalloc_aligned(size_t count, size_t size, size_t align)
{
    size_t n = count * size;
    n = n == 0 ? align : (n + align - 1) / align * align;
    void *p = aligned_alloc(align, n);
    if (p == NULL)
        xalloc_die(n);
    return memset(p, 0, n);
}

static inline void *xrealloc(void *old, size_t n)
{
    void *p = realloc(old, n != 0 ? n : 1);
    if (p == NULL)
        xalloc_die(n);
    return p;
}

static inline char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

static inline char *xstrndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

#endif
