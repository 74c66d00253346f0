#include "config_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits "host[:port]" or "[v6]:port"; returns -1 on a malformed port. */
static int split_host_port(const char *s, size_t len, char *host, size_t hostcap, uint16_t *port)
{
    const char *colon = NULL;
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return -1;
        size_t hl = (size_t)(close - s - 1);
        if (hl == 0 || hl >= hostcap)
            return -1;
        memcpy(host, s + 1, hl);
        host[hl] = '\0';
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return -1;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        size_t hl = colon ? (size_t)(colon - s) : len;
        if (hl == 0 || hl >= hostcap)
            return -1;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    if (colon != NULL) {
        size_t pl = (size_t)(s + len - colon - 1);
        if (pl == 0 || pl > 5)
            return -1;
        unsigned long p = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)colon[1 + i]))
                return -1;
            p = p * 10 + (unsigned long)(colon[1 + i] - '0');
        }
        if (p == 0 || p > 65535)
            return -1;
        *port = (uint16_t)p;
    }
    return 0;
}

/* Decodes %XX escapes of a URL userinfo part into dst (cap bytes). */
static int pct_decode(const char *s, size_t len, char *dst, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= len || !isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]))
                return -1;
            char hex[3] = {s[i + 1], s[i + 2], 0};
            c = (char)strtol(hex, NULL, 16);
            i += 2;
        }
        if (o + 1 >= cap)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return 0;
}

/* REDIS_URL (contract in config.h): user, password (%XX decoded), host,
 * port, db, or a unix socket path, into cfg->redis_*. */
int config_parse_redis_url(config_t *cfg, const char *url, char *err, size_t errlen)
{
    cfg->redis_host[0] = cfg->redis_unix[0] = cfg->redis_user[0] = cfg->redis_password[0] = '\0';
    cfg->redis_port = 6379;
    cfg->redis_db = 0;
    if (strlen(url) >= sizeof(cfg->redis_url))
        goto bad;
    strcpy(cfg->redis_url, url);
    if (strncmp(url, "unix://", 7) == 0) {
        if (url[7] != '/' || strlen(url + 7) >= sizeof(cfg->redis_unix))
            goto bad;
        strcpy(cfg->redis_unix, url + 7);
        return 0;
    }
    if (strncmp(url, "redis://", 8) != 0)
        goto bad;
    const char *p = url + 8, *end = p + strlen(p);
    const char *slash = memchr(p, '/', (size_t)(end - p));
    const char *auth_end = end;
    if (slash != NULL)
        auth_end = slash;
    const char *at = NULL;
    for (const char *q = p; q < auth_end; q++)
        if (*q == '@')
            at = q;
    if (at != NULL) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (colon == NULL) /* "redis://password@host" is not a form we guess at */
            goto bad;
        if (pct_decode(p, (size_t)(colon - p), cfg->redis_user, sizeof(cfg->redis_user)) != 0 ||
            pct_decode(colon + 1, (size_t)(at - colon - 1), cfg->redis_password, sizeof(cfg->redis_password)) != 0)
            goto bad;
        p = at + 1;
    }
    if (split_host_port(p, (size_t)(auth_end - p), cfg->redis_host, sizeof(cfg->redis_host), &cfg->redis_port) != 0)
        goto bad;
    if (slash != NULL && slash + 1 < end) {
        char *e;
        errno = 0;
        unsigned long db = strtoul(slash + 1, &e, 10);
        if (errno != 0 || *e != '\0' || db > 15 || !isdigit((unsigned char)slash[1]))
            goto bad;
        cfg->redis_db = (unsigned)db;
    }
    return 0;
bad:;
    /* the URL as given, but never what may be a password: the part before
     * the last '@' of the authority is shown as *** */
    const char *host = url, *sl = strstr(url, "://");
    const char *auth = sl ? sl + 3 : url, *auth_stop = auth + strcspn(auth, "/");
    for (const char *q = auth; q < auth_stop; q++)
        if (*q == '@')
            host = q + 1;
    if (host == url)
        snprintf(err, errlen, "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got '%s'", url);
    else
        snprintf(err, errlen, "REDIS_URL: expected redis://[[user]:password@]host[:port][/db] or unix:///path, got '%.*s***@%s'",
                 (int)(auth - url), url, host);
    return -1;
}

/* Copies the next comma-separated item of *p into item (cap bytes) and
 * moves *p past it. Returns 1, 0 at the end, -1 for an empty or too long
 * item. */
static int next_item(const char **p, char *item, size_t cap)
{
    if (**p == '\0')
        return 0;
    const char *comma = strchr(*p, ',');
    size_t len = comma ? (size_t)(comma - *p) : strlen(*p);
    if (len == 0 || len >= cap)
        return -1;
    memcpy(item, *p, len);
    item[len] = '\0';
    *p += len + (comma ? 1 : 0);
    return 1;
}

int config_parse_cidrs(config_t *cfg, const char *v, char *err, size_t errlen)
{
    const size_t max = sizeof(cfg->trusted_proxies) / sizeof(cfg->trusted_proxies[0]);
    const char *all = v;
    char item[64];
    int rc;
    cfg->ntrusted_proxies = 0;
    while ((rc = next_item(&v, item, sizeof(item))) == 1) {
        if (cfg->ntrusted_proxies == max)
            goto bad;
        struct config_cidr *c = &cfg->trusted_proxies[cfg->ntrusted_proxies++];
        char *slash = strchr(item, '/');
        if (slash != NULL)
            *slash = '\0';
        if (inet_pton(AF_INET, item, c->addr) == 1)
            c->family = AF_INET;
        else if (inet_pton(AF_INET6, item, c->addr) == 1)
            c->family = AF_INET6;
        else
            goto bad;
        unsigned maxp = c->family == AF_INET ? 32 : 128;
        c->prefix = maxp;
        if (slash != NULL) {
            char *e;
            unsigned long n = strtoul(slash + 1, &e, 10);
            if (!isdigit((unsigned char)slash[1]) || *e != '\0' || n > maxp)
                goto bad;
            c->prefix = (unsigned)n;
        }
    }
    if (rc == 0)
        return 0;
bad:
    snprintf(err, errlen, "TRUSTED_PROXIES: expected comma-separated addresses or CIDRs (at most %zu), got '%s'", max, all);
    return -1;
}

int config_parse_origins(config_t *cfg, const char *v, char *err, size_t errlen)
{
    const size_t max = sizeof(cfg->cors_origins) / sizeof(cfg->cors_origins[0]);
    const char *all = v;
    char item[sizeof(cfg->cors_origins[0])];
    int rc;
    cfg->ncors_origins = 0;
    cfg->cors_any = 0;
    while ((rc = next_item(&v, item, sizeof(item))) == 1) {
        if (strcmp(item, "*") == 0) {
            cfg->cors_any = 1;
            continue;
        }
        size_t len = strlen(item);
        size_t skip = strncmp(item, "https://", 8) == 0 ? 8 : strncmp(item, "http://", 7) == 0 ? 7 : 0;
        if (skip == 0 || len <= skip || cfg->ncors_origins == max)
            goto bad;
        for (size_t i = skip; i < len; i++)
            if (!(isalnum((unsigned char)item[i]) || item[i] == '.' || item[i] == '-' || item[i] == ':' || item[i] == '[' ||
                  item[i] == ']'))
                goto bad;
        strcpy(cfg->cors_origins[cfg->ncors_origins++], item);
    }
    if (rc == 0)
        return 0;
bad:
    snprintf(err, errlen, "CORS_ORIGINS: expected comma-separated origins like https://shop.example (or *), at most %zu, got '%s'",
             max, all);
    return -1;
}
