/* log_event: every line is one JSON object in valid UTF-8, whatever its
 * fields hold — quotes, control characters, invalid UTF-8, strings longer
 * than a line — with cut strings ending in "…" and "truncated":true. */
#include "check.h"
#include "log.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>
#include <unistr.h>

/* Runs log_event with fd 2 pointed at a pipe; returns the line (malloc'd). */
static char *logged(const char *msg, const log_field_t *fields, size_t n)
{
    int p[2];
    if (pipe(p) != 0)
        return NULL;
    fflush(stderr);
    int saved = dup(2);
    dup2(p[1], 2);
    log_event(LOG_ERROR, "test_event", msg, fields, n);
    dup2(saved, 2);
    close(saved);
    close(p[1]);
    char *buf = calloc(1, 8192);
    ssize_t got = read(p[0], buf, 8191);
    close(p[0]);
    if (got <= 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The line parsed (NULL when it is not one JSON object ending in a newline,
 * or not valid UTF-8). */
static cJSON *parse(const char *line)
{
    size_t len = line ? strlen(line) : 0;
    if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1) != NULL || u8_check((const uint8_t *)line, len) != NULL)
        return NULL;
    return cJSON_Parse(line);
}

static const char *str(cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static void escapes(void)
{
    log_field_t f[] = {LOG_S("q", "a \"quoted\" \\ back\tslash\n\x01"), LOG_I("n", 42), LOG_SN("raw", "ab\0c", 4),
                       LOG_F("nan", NAN), LOG_F("inf", INFINITY)};
    char *line = logged("hello", f, 5);
    cJSON *o = parse(line);
    CHECK(o != NULL);
    CHECK_STR(str(o, "msg"), "hello");
    CHECK_STR(str(o, "q"), "a \"quoted\" \\ back\tslash\n\x01");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "n")) == 42);
    CHECK(strcmp(str(o, "raw"), "ab") == 0); /* cJSON stops at the escaped NUL */
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "nan")) && cJSON_IsNull(cJSON_GetObjectItem(o, "inf")));
    CHECK(cJSON_GetObjectItem(o, "truncated") == NULL);
    cJSON_Delete(o);
    free(line);
}

static void invalid_utf8(void)
{
    /* a lone continuation, a cut 3-byte sequence, an overlong '/', a
     * surrogate, 0xff — and a valid "é" and "€" kept as they are */
    const char ua[] = "x\x80y\xe2\x82z\xc0\xaf\xed\xa0\x80\xff\xc3\xa9\xe2\x82\xac";
    log_field_t f[] = {LOG_S("user_agent", ua)};
    char *line = logged(NULL, f, 1);
    cJSON *o = parse(line);
    CHECK(o != NULL);
    const char *got = str(o, "user_agent");
    CHECK(got != NULL && strncmp(got, "x\xef\xbf\xbdy", 5) == 0);
    CHECK(got != NULL && strstr(got, "\xc3\xa9\xe2\x82\xac") != NULL);
    CHECK(got != NULL && u8_check((const uint8_t *)got, strlen(got)) == NULL);
    cJSON_Delete(o);
    free(line);
}

static void long_fields(void)
{
    /* as in a request's line: a 5,000-byte path (2-byte characters, so a
     * cut could split one), the status, then a 3,000-byte agent that gets
     * what room is left */
    char *path = malloc(5001), *ua = malloc(3001);
    for (int i = 0; i < 5000; i += 2)
        memcpy(path + i, "\xc3\xa9", 2);
    path[5000] = '\0';
    memset(ua, 'A', 3000);
    ua[3000] = '\0';
    log_field_t f[] = {LOG_S("path", path), LOG_I("status", 200), LOG_S("user_agent", ua)};
    char *line = logged("m", f, 3);
    CHECK(line != NULL && strlen(line) <= 4096);
    cJSON *o = parse(line);
    CHECK(o != NULL);
    const char *p = str(o, "path");
    CHECK(p != NULL && strlen(p) <= 2048 && strlen(p) > 1500);
    CHECK(p != NULL && strcmp(p + strlen(p) - 3, "\xe2\x80\xa6") == 0);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "truncated")));
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(o, "status")) == 200);
    const char *a = str(o, "user_agent");
    CHECK(a != NULL && strlen(a) > 1000 && strcmp(a + strlen(a) - 3, "\xe2\x80\xa6") == 0);
    cJSON_Delete(o);
    free(line);

    /* many fields: the ones that do not fit are left out, the line stays JSON */
    log_field_t many[8];
    for (int i = 0; i < 8; i++)
        many[i] = LOG_S("k", ua);
    line = logged(NULL, many, 8);
    o = parse(line);
    CHECK(o != NULL);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "truncated")));
    cJSON_Delete(o);
    free(line);
    free(path);
    free(ua);
}

int main(void)
{
    log_init(LOG_DEBUG, 0);
    escapes();
    invalid_utf8();
    long_fields();
    return check_report("test_log");
}
