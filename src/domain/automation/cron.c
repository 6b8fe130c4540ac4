#include "domain/automation/cron.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEARCH_DAYS (366 * 8 + 2) /* covers the 8-year gap around 2100 */

struct field {
    const char *name;
    int lo, hi;
    const char *const *names; /* 3-letter names for lo.., or NULL */
};

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                          "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static const struct field fields[5] = {
    {"minute", 0, 59, NULL},          {"hour", 0, 23, NULL},
    {"day-of-month", 1, 31, NULL},    {"month", 1, 12, month_names},
    {"day-of-week", 0, 7, day_names},
};

static const struct {
    const char *macro, *expr;
} macros[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
};

/* A number or (where the field has them) a name at *p; advances *p. */
static int value(const struct field *f, const char **p, int *out)
{
    const char *s = *p;
    if (isdigit((unsigned char)*s)) {
        long v = 0;
        while (isdigit((unsigned char)*s) && v < 1000)
            v = v * 10 + (*s++ - '0');
        if (isdigit((unsigned char)*s))
            return -1;
        *out = (int)v;
        *p = s;
        return 0;
    }
    if (!f->names)
        return -1;
    int n = f->hi - f->lo + 1 - (f->lo == 0 && f->hi == 7 ? 1 : 0);
    for (int i = 0; i < n; i++)
        if (strncasecmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3])) {
            *out = f->lo + i;
            *p = s + 3;
            return 0;
        }
    return -1;
}

/* Parses one field (the text [s, e)) into bits; 0, or -1 with why. */
static int parse_field(const struct field *f, const char *s, const char *e, uint64_t *bits,
                       bool *star, char *why, size_t whylen)
{
    char text[64];
    int tl = (int)(e - s);
    snprintf(text, sizeof(text), "%.*s", tl > 40 ? 40 : tl, s);
    *bits = 0;
    *star = *s == '*';
    const char *p = s;
    while (p < e) {
        const char *item = p;
        int a, b, step = 1;
        bool range = false;
        if (*p == '*') {
            a = f->lo;
            b = f->hi;
            p++;
            range = true;
        } else {
            if (value(f, &p, &a) != 0)
                goto bad_value;
            b = a;
            if (p < e && *p == '-') {
                p++;
                if (value(f, &p, &b) != 0)
                    goto bad_value;
                range = true;
            }
        }
        if (p < e && *p == '/') {
            p++;
            const char *st = p;
            long v = 0;
            while (p < e && isdigit((unsigned char)*p) && v < 1000)
                v = v * 10 + (*p++ - '0');
            if (p == st || v < 1 || (p < e && isdigit((unsigned char)*p))) {
                snprintf(why, whylen, "%s field \"%s\": step must be a number of at least 1",
                         f->name, text);
                return -1;
            }
            step = (int)v;
            if (!range) /* "10/5" is "10-max/5" */
                b = f->hi;
        }
        if (p < e && *p != ',') {
            snprintf(why, whylen, "%s field \"%s\": unexpected '%c'", f->name, text, *p);
            return -1;
        }
        if (a < f->lo || a > f->hi || b < f->lo || b > f->hi) {
            snprintf(why, whylen, "%s field \"%s\": %d is out of range %d-%d", f->name, text,
                     a < f->lo || a > f->hi ? a : b, f->lo, f->hi);
            return -1;
        }
        if (a > b) {
            snprintf(why, whylen, "%s field \"%s\": range %d-%d runs backwards", f->name, text, a,
                     b);
            return -1;
        }
        for (int v = a; v <= b; v += step)
            *bits |= 1ull << v;
        if (p < e) { /* ',' */
            p++;
            if (p == e) {
                snprintf(why, whylen, "%s field \"%s\": empty list item", f->name, text);
                return -1;
            }
        }
        continue;
    bad_value:
        snprintf(why, whylen, "%s field \"%s\": \"%.*s\" is not a %s", f->name, text,
                 (int)(strcspn(item, ", \t") > 20 ? 20 : strcspn(item, ", \t")), item,
                 f->names ? "number or name" : "number");
        return -1;
    }
    return 0;
}

wsms_err cron_parse(const char *expr, struct cron *out, char *why, size_t whylen)
{
    const char *s = expr ? expr : "";
    memset(out, 0, sizeof(*out));
    while (isspace((unsigned char)*s))
        s++;
    char buf[128];
    if (*s == '@') {
        size_t n = strcspn(s, " \t\r\n");
        const char *rest = s + n;
        while (isspace((unsigned char)*rest))
            rest++;
        for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
            if (strlen(macros[i].macro) == n && strncasecmp(s, macros[i].macro, n) == 0 && !*rest)
                return cron_parse(macros[i].expr, out, why, whylen);
        snprintf(why, whylen,
                 "\"%.*s\" is not a known macro (@yearly, @annually, @monthly, @weekly, @daily, "
                 "@midnight, @hourly)",
                 (int)(n > 20 ? 20 : n), s);
        return E_VALIDATION_ERROR;
    }
    if (strlen(s) >= sizeof(buf)) {
        snprintf(why, whylen, "expression is longer than %zu characters", sizeof(buf) - 1);
        return E_VALIDATION_ERROR;
    }
    const char *start[6], *end[6];
    int nf = 0;
    const char *p = s;
    while (*p) {
        if (nf == 6)
            break;
        start[nf] = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        end[nf++] = p;
        while (isspace((unsigned char)*p))
            p++;
    }
    if (nf != 5) {
        snprintf(why, whylen,
                 "expected 5 fields (minute hour day-of-month month day-of-week), got %s%d",
                 nf == 6 ? "more than " : "", nf == 6 ? 5 : nf);
        return E_VALIDATION_ERROR;
    }
    uint64_t bits[5];
    bool star[5];
    for (int i = 0; i < 5; i++)
        if (parse_field(&fields[i], start[i], end[i], &bits[i], &star[i], why, whylen) != 0)
            return E_VALIDATION_ERROR;
    out->minutes = bits[0];
    out->hours = (uint32_t)bits[1];
    out->mdays = (uint32_t)bits[2];
    out->months = (uint16_t)bits[3];
    out->wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    out->mday_star = star[2];
    out->wday_star = star[4];
    int64_t t;
    if (cron_next(out, 0, &t) != 0) { /* 8 years from 1970 include 1972-02-29 */
        snprintf(why, whylen, "\"%s\" never fires (no such day in the months it names)", s);
        return E_VALIDATION_ERROR;
    }
    return WSMS_OK;
}

static bool day_matches(const struct cron *c, const struct tm *tm)
{
    bool md = (c->mdays >> tm->tm_mday) & 1, wd = (c->wdays >> tm->tm_wday) & 1;
    if (c->mday_star || c->wday_star)
        return md && wd;
    return md || wd;
}

int cron_next(const struct cron *c, int64_t after, int64_t *next)
{
    int64_t t = (after >= 0 ? after / 60 : (after - 59) / 60) * 60 + 60;
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return -1;
    int h0 = tm.tm_hour, m0 = tm.tm_min;
    for (int day = 0; day < SEARCH_DAYS; day++) {
        if (((c->months >> (tm.tm_mon + 1)) & 1) && day_matches(c, &tm)) {
            for (int h = h0; h < 24; h++) {
                if (!((c->hours >> h) & 1))
                    continue;
                for (int m = h == h0 ? m0 : 0; m < 60; m++) {
                    if (!((c->minutes >> m) & 1))
                        continue;
                    struct tm f = tm;
                    f.tm_hour = h;
                    f.tm_min = m;
                    f.tm_sec = 0;
                    *next = (int64_t)timegm(&f);
                    return 0;
                }
            }
        }
        /* next day at 00:00 */
        tm.tm_mday++;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        tt = timegm(&tm);
        if (!gmtime_r(&tt, &tm))
            return -1;
        h0 = m0 = 0;
    }
    return -1;
}

size_t cron_next_n(const struct cron *c, int64_t after, int64_t *out, size_t n)
{
    size_t k = 0;
    for (; k < n; k++) {
        if (cron_next(c, after, &out[k]) != 0)
            break;
        after = out[k];
    }
    return k;
}
