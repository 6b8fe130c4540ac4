#include "http/http.h"

#include "core/arena.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void json_delete(void *p)
{
    cJSON_Delete(p);
}

cJSON *arena_json(struct arena *a, cJSON *obj)
{
    if (!obj)
        return NULL;
    if (arena_defer(a, json_delete, obj) != 0)
        return NULL;
    return obj;
}

void req_stage(struct request *rq, const char *stage)
{
    if (rq->set_stage)
        rq->set_stage(stage);
}

const char *req_header(const struct request *rq, const char *name)
{
    char key[128] = "HTTP_";
    size_t n = strlen(name);
    if (n + 6 > sizeof(key))
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        key[5 + i] = c == '-' ? '_' : (char)toupper((unsigned char)c);
    }
    key[5 + n] = '\0';
    if (strcmp(key, "HTTP_CONTENT_TYPE") == 0)
        return rq->content_type;
    if (!rq->params)
        return NULL;
    size_t kl = 5 + n;
    for (char **p = rq->params; *p; p++)
        if (strncmp(*p, key, kl) == 0 && (*p)[kl] == '=')
            return *p + kl + 1;
    return NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into the arena; '+' becomes ' ' when plus is set.
 * NULL on bad escapes or an encoded NUL. */
static char *pct_decode(struct arena *a, const char *s, size_t n, int plus)
{
    char *out = arena_alloc(a, n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n)
                return NULL;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return NULL;
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (plus && s[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

char *http_decode_path(struct arena *a, const char *s, size_t n)
{
    return pct_decode(a, s, n, 0);
}

const char *req_query(const struct request *rq, const char *key)
{
    const char *q = rq->query;
    size_t kl = strlen(key);
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t nl = eq ? (size_t)(eq - q) : len;
        char *name = pct_decode(rq->arena, q, nl, 1);
        if (name && strlen(name) == kl && memcmp(name, key, kl) == 0) {
            if (!eq)
                return "";
            return pct_decode(rq->arena, eq + 1, len - nl - 1, 1);
        }
        q = amp ? amp + 1 : NULL;
    }
    return NULL;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || *end || errno || isspace((unsigned char)*s))
        return -1;
    *out = v;
    return 0;
}

wsms_err req_pagination(struct request *rq, struct response *rs, long *limit, long *offset)
{
    *limit = 50;
    *offset = 0;
    const char *l = req_query(rq, "limit");
    const char *o = req_query(rq, "offset");
    if (l && (parse_long(l, limit) != 0 || *limit < 1 || *limit > 200))
        resp_detail(rq, rs, "limit", "must be a whole number from 1 to 200");
    if (o && (parse_long(o, offset) != 0 || *offset < 0 || *offset > 1000000000L))
        resp_detail(rq, rs, "offset", "must be a whole number >= 0");
    if (resp_has_details(rs))
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    return WSMS_OK;
}

/* A copy of the body in which every \u0000 escape inside a string is
 * \u0001: cJSON would end the C string at the NUL (silently dropping the
 * rest), while a U+0001 survives parsing and is refused as a control
 * character below. Outside strings nothing changes (invalid JSON stays
 * invalid). NULL when out of memory. */
static char *mask_nul_escapes(struct arena *a, const char *body, size_t len)
{
    char *c = arena_alloc(a, len + 1);
    if (!c)
        return NULL;
    memcpy(c, body, len);
    c[len] = '\0';
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        if (!in_str) {
            if (c[i] == '"')
                in_str = true;
            continue;
        }
        if (c[i] == '"') {
            in_str = false;
        } else if (c[i] == '\\' && i + 1 < len) {
            if (c[i + 1] == 'u' && i + 5 < len && memcmp(c + i + 2, "0000", 4) == 0)
                c[i + 5] = '1';
            i++; /* the escaped character; a \uXXXX's digits are plain */
        }
    }
    return c;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* true when an object anywhere in the tree names a key twice. */
static bool has_dup_keys(struct arena *a, const cJSON *j, bool *oom)
{
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return false;
    size_t n = 0;
    for (const cJSON *c = j->child; c; c = c->next) {
        if (has_dup_keys(a, c, oom))
            return true;
        n++;
    }
    if (!cJSON_IsObject(j) || n < 2)
        return false;
    const char **keys = arena_alloc(a, n * sizeof(*keys));
    if (!keys) {
        *oom = true;
        return false;
    }
    size_t k = 0;
    for (const cJSON *c = j->child; c; c = c->next)
        keys[k++] = c->string ? c->string : "";
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            return true;
    return false;
}

/* The path of the first string (value or key) holding a control character
 * other than tab/newline, written into path ("name",
 * "external_links[0].url"); false when there is none. */
static bool find_control(const cJSON *j, char *path, size_t cap, size_t len)
{
    if (cJSON_IsString(j))
        return j->valuestring && utf8_has_control(j->valuestring, true);
    if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
        return false;
    long i = 0;
    for (const cJSON *c = j->child; c; c = c->next, i++) {
        int w;
        if (cJSON_IsObject(j)) {
            const char *k = c->string ? c->string : "";
            if (utf8_has_control(k, false))
                return true; /* the key itself: name its parent */
            w = snprintf(path + len, cap - len, "%s%s", len ? "." : "", k);
        } else {
            w = snprintf(path + len, cap - len, "[%ld]", i);
        }
        size_t nl = w < 0 ? len : len + (size_t)w;
        if (nl >= cap)
            nl = cap - 1;
        if (find_control(c, path, cap, nl))
            return true;
        path[len] = '\0';
    }
    return false;
}

wsms_err req_json_object(struct request *rq, struct response *rs, cJSON **out)
{
    char path[256] = "";
    bool oom = false;
    *out = NULL;
    if (!rq->body || rq->body_len == 0)
        return resp_error(rs, E_INVALID_REQUEST, "A JSON object body is required");
    if (memchr(rq->body, '\0', rq->body_len))
        return resp_error(rs, E_INVALID_REQUEST, "Request body is not valid JSON");
    char *text = mask_nul_escapes(rq->arena, rq->body, rq->body_len);
    if (!text)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    const char *end = NULL;
    /* the length includes the terminating NUL: cJSON's "require null
     * terminated" check reads the byte after the value */
    cJSON *j = cJSON_ParseWithLengthOpts(text, rq->body_len + 1, &end, 1);
    if (!j)
        return resp_error(rs, E_INVALID_REQUEST, "Request body is not valid JSON");
    if (!arena_json(rq->arena, j))
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (!cJSON_IsObject(j))
        return resp_error(rs, E_INVALID_REQUEST, "Request body must be a JSON object");
    if (has_dup_keys(rq->arena, j, &oom))
        return resp_error(rs, E_INVALID_REQUEST, "Request body names a key more than once");
    if (oom)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (find_control(j, path, sizeof(path), 0)) {
        resp_detail(rq, rs, *path ? path : "body", "must not contain control characters");
        return resp_error(rs, E_VALIDATION_ERROR, NULL);
    }
    *out = j;
    return WSMS_OK;
}

wsms_err req_check_query(struct request *rq, struct response *rs)
{
    const char *q = rq->query;
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t nl = eq ? (size_t)(eq - q) : len;
        char *name = pct_decode(rq->arena, q, nl, 1);
        char *val = eq ? pct_decode(rq->arena, eq + 1, len - nl - 1, 1) : NULL;
        if (!name || utf8_has_control(name, false)) {
            resp_detail(rq, rs, "query", "parameter name is malformed or holds control characters");
            return resp_error(rs, E_VALIDATION_ERROR, NULL);
        }
        if (eq && (!val || utf8_has_control(val, false))) {
            resp_detail(rq, rs, name, "malformed escape or control characters");
            return resp_error(rs, E_VALIDATION_ERROR, NULL);
        }
        q = amp ? amp + 1 : NULL;
    }
    return WSMS_OK;
}

wsms_err resp_json(struct request *rq, struct response *rs, int status, cJSON *json)
{
    if (!json || !arena_json(rq->arena, json))
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    char *s = cJSON_PrintUnformatted(json);
    if (!s)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (arena_defer(rq->arena, free, s) != 0)
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    rs->status = status;
    rs->body = s;
    rs->body_len = strlen(s);
    rs->content_type = "application/json";
    return WSMS_OK;
}

wsms_err resp_no_content(struct response *rs)
{
    rs->status = 204;
    rs->body = NULL;
    rs->body_len = 0;
    return WSMS_OK;
}

int resp_header(struct request *rq, struct response *rs, const char *name, const char *value)
{
    if (rs->nheaders >= RESP_MAX_HEADERS)
        return -1;
    const char *n = arena_strdup(rq->arena, name);
    const char *v = arena_strdup(rq->arena, value);
    if (!n || !v)
        return -1;
    rs->headers[rs->nheaders].name = n;
    rs->headers[rs->nheaders].value = v;
    rs->nheaders++;
    return 0;
}

wsms_err resp_error(struct response *rs, wsms_err e, const char *msg)
{
    rs->err = e;
    rs->err_msg = msg;
    return e;
}

void resp_detail(struct request *rq, struct response *rs, const char *field, const char *msg)
{
    if (!rs->details) {
        rs->details = arena_json(rq->arena, cJSON_CreateArray());
        if (!rs->details)
            return;
    }
    cJSON *d = cJSON_CreateObject();
    if (!d)
        return;
    if (!cJSON_AddStringToObject(d, "field", field) ||
        !cJSON_AddStringToObject(d, "message", msg)) {
        cJSON_Delete(d);
        return;
    }
    cJSON_AddItemToArray(rs->details, d);
}

bool resp_has_details(const struct response *rs)
{
    return rs->details && cJSON_GetArraySize(rs->details) > 0;
}

static const char *const role_names[] = {"NONE", "VIEWER", "MEMBER", "ADMIN", "OWNER"};

const char *role_name(enum role r)
{
    if ((int)r < 0 || r > ROLE_OWNER)
        return "NONE";
    return role_names[r];
}

enum role role_parse(const char *s)
{
    if (!s)
        return ROLE_NONE;
    for (int i = ROLE_VIEWER; i <= ROLE_OWNER; i++)
        if (strcasecmp(s, role_names[i]) == 0)
            return (enum role)i;
    return ROLE_NONE;
}
