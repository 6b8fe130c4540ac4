/* log: lines to stderr as "YYYY-MM-DD HH:MM:SS,mmm - logger - LEVEL - msg".
 * While a request is handled its id is set with log_set_request_id() and
 * prefixed to every message ("[rid] ..."). Never pass a token, secret,
 * password or connection string to these functions. */
#ifndef WSMS_LOG_H
#define WSMS_LOG_H

enum log_level {
    LOG_DEBUG = 10,
    LOG_INFO = 20,
    LOG_WARNING = 30,
    LOG_ERROR = 40,
    LOG_CRITICAL = 50
};

/* Parses DEBUG|INFO|WARNING|ERROR|CRITICAL (any case); -1 when unknown. */
int log_parse_level(const char *s);
void log_set_level(int level);
int log_get_level(void);
/* Copied; NULL clears it. */
void log_set_request_id(const char *rid);

void log_msg(int level, const char *logger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(lg, ...) log_msg(LOG_DEBUG, lg, __VA_ARGS__)
#define log_info(lg, ...)  log_msg(LOG_INFO, lg, __VA_ARGS__)
#define log_warn(lg, ...)  log_msg(LOG_WARNING, lg, __VA_ARGS__)
#define log_error(lg, ...) log_msg(LOG_ERROR, lg, __VA_ARGS__)

#endif
