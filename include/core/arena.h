/* arena: per-request memory. Everything a request allocates comes from its
 * arena and is released at once by arena_reset() at the top of the accept
 * loop. Non-memory resources (cJSON trees, ODBC statements, curl slists) are
 * registered with arena_defer() and released by the same reset, newest
 * first. The arena owns its blocks; callers never free arena memory. */
#ifndef WSMS_ARENA_H
#define WSMS_ARENA_H

#include <stddef.h>

struct arena;

/* A new arena whose total size may not exceed `cap` bytes (0 = 64 MiB). */
struct arena *arena_new(size_t cap);
void arena_free(struct arena *a);
/* Release every block but the first and run every deferred destructor. */
void arena_reset(struct arena *a);

/* NULL when the cap would be exceeded or malloc fails. Memory is zeroed. */
void *arena_alloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* printf into the arena; NULL on failure. */
char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run fn(p) at the next reset. Returns 0, or -1 (and runs fn(p) now) on
 * allocation failure so the resource never leaks. */
int arena_defer(struct arena *a, void (*fn)(void *), void *p);
/* Bytes currently handed out (for tests and metrics). */
size_t arena_used(const struct arena *a);

#endif
