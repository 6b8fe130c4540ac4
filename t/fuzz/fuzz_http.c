/* libFuzzer target: request path and query decoding (http.c). The input is
 * used as a raw REQUEST_URI path (exact-size buffer, no terminator), as a
 * query string for req_query()/req_pagination(), and, split at newlines,
 * as FastCGI parameters for req_header(). Invariants violated abort().
 * t/unit/test_fuzz_regressions.c includes this file with FUZZ_ENTRY
 * renamed to replay the corpus and the regressions. */
#include "core/arena.h"
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

static int fz_http_hexval(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A path without escapes decodes to itself; with them it only shrinks. */
static void fz_http_check_path(const char *in, size_t n, const char *out)
{
    if (!out) {
        /* refused: there must be a bad escape or an encoded NUL */
        int bad = 0;
        for (size_t i = 0; i < n; i++)
            if (in[i] == '%' &&
                (i + 2 >= n || !fz_http_hexval(in[i + 1]) || !fz_http_hexval(in[i + 2]) ||
                 (in[i + 1] == '0' && in[i + 2] == '0')))
                bad = 1;
        if (!bad && !memchr(in, '\0', n))
            abort();
        return;
    }
    size_t m = strlen(out);
    if (m > n)
        abort();
    if (!memchr(in, '%', n) && !memchr(in, '\0', n) && (m != n || memcmp(in, out, n) != 0))
        abort();
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(1 << 22);
    char *raw = malloc(size ? size : 1);
    char *q = malloc(size + 1);
    char **params = calloc(size / 2 + 2, sizeof(char *));
    char *pbuf = malloc(size + 1);
    if (!a || !raw || !q || !params || !pbuf)
        goto out;
    memcpy(raw, data, size);
    memcpy(q, data, size);
    q[size] = '\0';
    memcpy(pbuf, data, size);
    pbuf[size] = '\0';

    fz_http_check_path(raw, size, http_decode_path(a, raw, size));

    struct request rq;
    struct response rs;
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.arena = a;
    rq.query = q;
    const char *keys[] = {"limit", "offset", "", "a b", "user_id", "action"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = req_query(&rq, keys[i]);
        if (v && strlen(v) > size)
            abort();
    }
    long limit = -1, offset = -1;
    wsms_err e = req_pagination(&rq, &rs, &limit, &offset);
    if (e == WSMS_OK && (limit < 1 || limit > 200 || offset < 0 || resp_has_details(&rs)))
        abort();
    if (e != WSMS_OK && (e != E_VALIDATION_ERROR || !resp_has_details(&rs)))
        abort();

    /* lines as FastCGI parameters; the first line also names a header */
    size_t np = 0;
    for (char *s = pbuf, *nl; s && np < size / 2 + 1; s = nl ? nl + 1 : NULL) {
        nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        params[np++] = s;
    }
    params[np] = NULL;
    rq.params = params;
    rq.content_type = "application/json";
    const char *names[] = {"Authorization", "X-PMA-Token", "Content-Type", "X-Request-Id",
                           params[0] ? params[0] : ""};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        (void)req_header(&rq, names[i]);
    (void)role_parse(q);
out:
    arena_free(a);
    free(raw);
    free(q);
    free(params);
    free(pbuf);
    return 0;
}
