#include "http/http.h"

#include "core/arena.h"

#include <ctype.h>
#include <errno.h>
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

wsms_err req_json_object(struct request *rq, struct response *rs, cJSON **out)
{
    *out = NULL;
    if (!rq->body || rq->body_len == 0)
        return resp_error(rs, E_INVALID_REQUEST, "A JSON object body is required");
    if (memchr(rq->body, '\0', rq->body_len))
        return resp_error(rs, E_INVALID_REQUEST, "Request body is not valid JSON");
    const char *end = NULL;
    /* the length includes the terminating NUL: cJSON's "require null
     * terminated" check reads the byte after the value */
    cJSON *j = cJSON_ParseWithLengthOpts(rq->body, rq->body_len + 1, &end, 1);
    if (!j)
        return resp_error(rs, E_INVALID_REQUEST, "Request body is not valid JSON");
    if (!arena_json(rq->arena, j))
        return resp_error(rs, E_INTERNAL_SERVER_ERROR, NULL);
    if (!cJSON_IsObject(j))
        return resp_error(rs, E_INVALID_REQUEST, "Request body must be a JSON object");
    *out = j;
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
