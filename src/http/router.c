#include "http/router.h"

#include "core/arena.h"

#include <stdio.h>
#include <string.h>

/* Matches pattern against path segment by segment. Captures point into the
 * arena. Returns 1 on a match. */
static int match(struct arena *a, const char *pat, const char *path, const char *cap[2])
{
    int ncap = 0;
    const char *p = pat, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++;
        s++;
        const char *pe = strchr(p, '/');
        const char *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl > 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (sl == 0 || ncap >= 2)
                return 0;
            if (a) {
                cap[ncap] = arena_strndup(a, s, sl);
                if (!cap[ncap])
                    return 0;
            }
            ncap++;
        } else if (pl != sl || memcmp(p, s, pl) != 0) {
            return 0;
        }
        p += pl;
        s += sl;
    }
    return *p == '\0' && *s == '\0';
}

const struct route *router_match(const struct route *t, size_t n, struct arena *a,
                                 const char *method, const char *path, const char *cap[2],
                                 wsms_err *err, char *allow, size_t allowlen)
{
    size_t used = 0;
    int path_known = 0;
    cap[0] = cap[1] = NULL;
    if (allowlen)
        allow[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!match(NULL, t[i].pattern, path, cap))
            continue;
        if (strcmp(t[i].method, method) == 0) {
            if (!match(a, t[i].pattern, path, cap)) {
                *err = E_INTERNAL_SERVER_ERROR;
                return NULL;
            }
            return &t[i];
        }
        path_known = 1;
        if (!strstr(allow, t[i].method)) {
            int w = snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "", t[i].method);
            if (w > 0 && (size_t)w < allowlen - used)
                used += (size_t)w;
        }
    }
    *err = path_known ? E_METHOD_NOT_ALLOWED : E_NOT_FOUND;
    return NULL;
}
