/* The parsers of the structured settings (REDIS_URL, TRUSTED_PROXIES,
 * CORS_ORIGINS), apart from config.c's option table. Internal to config.c
 * (and its unit test); pure code. */
#ifndef CATALOG_CONFIG_PARSE_H
#define CATALOG_CONFIG_PARSE_H

#include "config.h"

/* config_parse_redis_url is declared in config.h. */

/* TRUSTED_PROXIES: "a.b.c.d/n,x::y/n" (a bare address is a /32 or /128),
 * at most 16, into cfg->trusted_proxies. Returns 0, or -1 with
 * "TRUSTED_PROXIES: ..." in err. */
int config_parse_cidrs(config_t *cfg, const char *v, char *err, size_t errlen);

/* CORS_ORIGINS: "https://a.example,http://localhost:8080" (scheme://host[:port]
 * each), or "*" (any), at most 16, into cfg->cors_origins / cors_any.
 * Returns 0, or -1 with "CORS_ORIGINS: ..." in err. */
int config_parse_origins(config_t *cfg, const char *v, char *err, size_t errlen);

#endif
