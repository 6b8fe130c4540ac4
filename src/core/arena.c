#include "core/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK       16384
#define ARENA_DEFAULT_CAP (64u * 1024 * 1024)

struct block {
    struct block *next;
    size_t size;
    size_t used;
    max_align_t data[];
};

struct deferred {
    struct deferred *next;
    void (*fn)(void *);
    void *p;
};

struct arena {
    struct block *head;  /* newest block first */
    struct block *first; /* kept across resets */
    struct deferred *defers;
    size_t cap;
    size_t total;
};

static struct block *block_new(size_t size)
{
    struct block *b = malloc(sizeof(*b) + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

struct arena *arena_new(size_t cap)
{
    struct arena *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->cap = cap ? cap : ARENA_DEFAULT_CAP;
    a->first = block_new(ARENA_BLOCK);
    if (!a->first) {
        free(a);
        return NULL;
    }
    a->head = a->first;
    return a;
}

static void run_defers(struct arena *a)
{
    while (a->defers) {
        struct deferred *d = a->defers;
        a->defers = d->next;
        d->fn(d->p);
    }
}

void arena_reset(struct arena *a)
{
    if (!a)
        return;
    run_defers(a);
    struct block *b = a->head;
    while (b && b != a->first) {
        struct block *next = b->next;
        free(b);
        b = next;
    }
    a->head = a->first;
    a->first->next = NULL;
    a->first->used = 0;
    a->total = 0;
}

void arena_free(struct arena *a)
{
    if (!a)
        return;
    arena_reset(a);
    free(a->first);
    free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - align)
        return NULL;
    size_t need = (n + align - 1) / align * align;
    if (a->total + need > a->cap)
        return NULL;
    struct block *b = a->head;
    if (b->size - b->used < need) {
        size_t sz = need > ARENA_BLOCK ? need : ARENA_BLOCK;
        b = block_new(sz);
        if (!b)
            return NULL;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += need;
    a->total += need;
    memset(p, 0, n);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *d = arena_alloc(a, (size_t)n + 1);
    if (!d)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

int arena_defer(struct arena *a, void (*fn)(void *), void *p)
{
    struct deferred *d = arena_alloc(a, sizeof(*d));
    if (!d) {
        fn(p);
        return -1;
    }
    d->fn = fn;
    d->p = p;
    d->next = a->defers;
    a->defers = d;
    return 0;
}

size_t arena_used(const struct arena *a)
{
    return a->total;
}
