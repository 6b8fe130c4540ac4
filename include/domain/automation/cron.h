/* cron: standard 5-field cron expressions in UTC (minute hour day-of-month
 * month day-of-week) and their fire times, as Vixie cron defines them:
 * lists (1,5), ranges (1-5), steps (*\/15, 1-30/5, 10/5 = 10-max/5),
 * month and day names (jan..dec, sun..sat, any case, also in ranges),
 * day-of-week 0 or 7 for Sunday, and @yearly/@annually, @monthly, @weekly,
 * @daily/@midnight, @hourly. Day-of-month and day-of-week: when both are
 * restricted (neither starts with '*') a day matches if either does (OR);
 * otherwise both must match. A parsed expression is a plain value the
 * caller owns; nothing here allocates. */
#ifndef WSMS_CRON_H
#define WSMS_CRON_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cron {
    uint64_t minutes; /* bit m: minute m (0-59) */
    uint32_t hours;   /* bit h: hour h (0-23) */
    uint32_t mdays;   /* bit d: day of month d (1-31) */
    uint16_t months;  /* bit m: month m (1-12) */
    uint8_t wdays;    /* bit d: day of week d (0 = Sunday .. 6) */
    bool mday_star;   /* the day-of-month field started with '*' */
    bool wday_star;   /* the day-of-week field started with '*' */
};

/* Parses expr (leading/trailing blanks allowed, fields separated by blanks).
 * On a bad expression returns E_VALIDATION_ERROR and writes into why a
 * message naming the field and the bad part, e.g.
 * `hour field "24": 24 is out of range 0-23`. An expression that can never
 * fire (0 0 30 2 *) is refused the same way. */
wsms_err cron_parse(const char *expr, struct cron *out, char *why, size_t whylen);

/* The first fire time strictly after `after` (UTC seconds since the epoch,
 * whole minutes). Returns 0, or -1 when none comes within 8 years (only for
 * an expression cron_parse would have refused). */
int cron_next(const struct cron *c, int64_t after, int64_t *next);

/* The next n fire times after `after` into out[0..n); returns how many were
 * found (n unless the expression never fires). */
size_t cron_next_n(const struct cron *c, int64_t after, int64_t *out, size_t n);

#endif
