/* libFuzzer target: JSON request bodies (req_json_object in http.c). The
 * body is an exact copy of the input plus the terminator the server adds.
 * Oracle: a body cJSON itself parses as a complete JSON object must be
 * accepted unless it names a key twice (INVALID_REQUEST) or holds a control
 * character (VALIDATION_ERROR with details); anything accepted is an object
 * with no control character in any string; violations abort(). */
#include "core/arena.h"
#include "core/util.h"
#include "http/http.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

/* Is body (NUL-terminated, no NUL inside) one complete JSON object? */
static int fz_json_is_object(const char *body, size_t size)
{
    if (size == 0 || memchr(body, '\0', size))
        return 0;
    cJSON *j = cJSON_ParseWithOpts(body, NULL, 1);
    int ok = cJSON_IsObject(j);
    cJSON_Delete(j);
    return ok;
}

/* No string or key of the tree holds a control character other than
 * tab/newline. */
static int fz_clean(const cJSON *j)
{
    for (const cJSON *c = j->child; c; c = c->next) {
        if (c->string && utf8_has_control(c->string, true))
            return 0;
        if (cJSON_IsString(c) && utf8_has_control(c->valuestring, true))
            return 0;
        if (!fz_clean(c))
            return 0;
    }
    return 1;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    struct arena *a = arena_new(1 << 24);
    char *body = malloc(size + 1);
    if (!a || !body)
        goto out;
    memcpy(body, data, size);
    body[size] = '\0';
    struct request rq;
    struct response rs;
    memset(&rq, 0, sizeof(rq));
    memset(&rs, 0, sizeof(rs));
    rq.arena = a;
    rq.body = size ? body : NULL;
    rq.body_len = size;
    cJSON *obj = NULL;
    wsms_err e = req_json_object(&rq, &rs, &obj);
    if (e == WSMS_OK && !cJSON_IsObject(obj))
        abort();
    if (e != WSMS_OK && (obj || rs.err != e))
        abort();
    int refused_by_rule =
        (e == E_VALIDATION_ERROR && resp_has_details(&rs)) ||
        (e == E_INVALID_REQUEST && rs.err_msg && strstr(rs.err_msg, "more than once"));
    if (e != WSMS_OK && e != E_INTERNAL_SERVER_ERROR && !refused_by_rule &&
        fz_json_is_object(body, size))
        abort(); /* a valid JSON object refused */
    if (e == WSMS_OK && !fz_clean(obj))
        abort(); /* a control character got through */
    if (e == WSMS_OK) {
        /* the tree lives in the arena: serializing it must work */
        char *s = cJSON_PrintUnformatted(obj);
        if (!s)
            abort();
        free(s);
    }
out:
    arena_free(a); /* deletes the parsed tree */
    free(body);
    return 0;
}
