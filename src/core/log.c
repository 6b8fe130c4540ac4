#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static int cur_level = LOG_INFO;
static char cur_rid[80];

int log_parse_level(const char *s)
{
    static const struct {
        const char *name;
        int level;
    } names[] = {{"DEBUG", LOG_DEBUG},  {"INFO", LOG_INFO},   {"WARNING", LOG_WARNING},
                 {"WARN", LOG_WARNING}, {"ERROR", LOG_ERROR}, {"CRITICAL", LOG_CRITICAL}};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0)
            return names[i].level;
    return -1;
}

void log_set_level(int level)
{
    cur_level = level;
}

int log_get_level(void)
{
    return cur_level;
}

void log_set_request_id(const char *rid)
{
    if (!rid) {
        cur_rid[0] = '\0';
        return;
    }
    snprintf(cur_rid, sizeof(cur_rid), "%s", rid);
}

static const char *level_name(int level)
{
    if (level >= LOG_CRITICAL)
        return "CRITICAL";
    if (level >= LOG_ERROR)
        return "ERROR";
    if (level >= LOG_WARNING)
        return "WARNING";
    if (level >= LOG_INFO)
        return "INFO";
    return "DEBUG";
}

void log_msg(int level, const char *logger, const char *fmt, ...)
{
    if (level < cur_level)
        return;
    char line[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02d %02d:%02d:%02d,%03d - %s - %s - ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     (int)(tv.tv_usec / 1000), logger, level_name(level));
    if (n < 0)
        return;
    size_t off = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
    if (cur_rid[0] && off < sizeof(line)) {
        n = snprintf(line + off, sizeof(line) - off, "[%s] ", cur_rid);
        if (n > 0)
            off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
    }
    va_list ap;
    va_start(ap, fmt);
    n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
    va_end(ap);
    if (n > 0)
        off += (size_t)n < sizeof(line) - off ? (size_t)n : sizeof(line) - off - 1;
    /* one line per message: newlines in messages become spaces */
    for (size_t i = 0; i < off; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[off++] = '\n';
    fwrite(line, 1, off, stderr);
    fflush(stderr);
}
