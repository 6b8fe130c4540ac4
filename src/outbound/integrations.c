/* integrations: Jira / ADO / ServiceNow / Graph list calls. See
 * integrations.h for the contract and ownership. */
#include "outbound/integrations.h"

#include "core/config.h"
#include "outbound/httpc.h"
#include "core/log.h"
#include "core/util.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LG "integrations"

struct call {
    const char *prov; /* provider name for logs */
    char *base;       /* configured base URL without trailing '/' */
    char *auth;       /* "Authorization: ..." header; wiped before free */
    int64_t deadline; /* mono_ms() deadline of the whole call */
    cJSON *projects;  /* output array (owned by the result object) */
};

/* One field copied from a provider item to an output item. */
struct field_map {
    const char *src, *dst;
};

static void set_why(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    if (n < 0)
        why[0] = '\0';
}

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s)
        return NULL;
    va_start(ap, fmt);
    int m = vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (m != n) {
        free(s);
        return NULL;
    }
    return s;
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

const char *integ_provider_name(enum provider p)
{
    switch (p) {
    case PROV_JIRA:
        return "jira";
    case PROV_ADO:
        return "ado";
    case PROV_SNOW:
        return "snow";
    case PROV_SP:
        return "sharepoint";
    }
    return "unknown";
}

/* "Authorization: Basic base64(user:secret)"; NULL on allocation failure. */
static char *basic_auth(const char *user, const char *secret)
{
    char *pair = NULL, *b64 = NULL, *hdr = NULL;
    pair = str_printf("%s:%s", user, secret);
    if (!pair)
        goto out;
    b64 = b64_encode((const unsigned char *)pair, strlen(pair));
    if (!b64)
        goto out;
    hdr = str_printf("Authorization: Basic %s", b64);
out:
    free_secret(pair);
    free_secret(b64);
    return hdr;
}

static char *bearer_auth(const char *token)
{
    return str_printf("Authorization: Bearer %s", token);
}

/* Copies a string (or, for ids, a number) field into dst under `name`.
 * Returns 1 when added, 0 when absent or of another type, -1 on OOM. */
static int copy_field(cJSON *dst, const char *name, const cJSON *v, bool allow_number)
{
    char num[64];
    const char *s = NULL;
    if (cJSON_IsString(v) && v->valuestring) {
        s = v->valuestring;
    } else if (allow_number && cJSON_IsNumber(v) && v->valuedouble >= -9e15 &&
               v->valuedouble <= 9e15 && (double)(long long)v->valuedouble == v->valuedouble) {
        snprintf(num, sizeof(num), "%lld", (long long)v->valuedouble);
        s = num;
    } else {
        return 0;
    }
    return cJSON_AddStringToObject(dst, name, s) ? 1 : -1;
}

/* Maps one provider item. id_src / name_src (NULL-terminated alternatives
 * for the name) are required; extra fields are copied when present. */
static wsms_err add_item(struct call *c, const cJSON *src, const char *id_src,
                         const char *const *name_srcs, const struct field_map *extra, size_t nextra,
                         char *why, size_t whylen)
{
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    cJSON *item = NULL;
    if (!cJSON_IsObject(src)) {
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "%s: list item is not an object", c->prov);
        log_warn(LG, "%s: %s", c->prov, "list item is not an object");
        goto out;
    }
    item = cJSON_CreateObject();
    if (!item)
        goto out;
    int r = copy_field(item, "id", cJSON_GetObjectItemCaseSensitive(src, id_src), true);
    if (r < 0)
        goto out;
    if (r == 0) {
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "%s: list item without \"%s\"", c->prov, id_src);
        log_warn(LG, "%s: list item without \"%s\"", c->prov, id_src);
        goto out;
    }
    r = 0;
    for (size_t i = 0; name_srcs[i] && r == 0; i++) {
        r = copy_field(item, "name", cJSON_GetObjectItemCaseSensitive(src, name_srcs[i]), false);
        if (r < 0)
            goto out;
    }
    if (r == 0) {
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "%s: list item without \"%s\"", c->prov, name_srcs[0]);
        log_warn(LG, "%s: list item without \"%s\"", c->prov, name_srcs[0]);
        goto out;
    }
    for (size_t i = 0; i < nextra; i++) {
        if (cJSON_GetObjectItemCaseSensitive(item, extra[i].dst))
            continue;
        if (copy_field(item, extra[i].dst, cJSON_GetObjectItemCaseSensitive(src, extra[i].src),
                       false) < 0)
            goto out;
    }
    if (!cJSON_AddItemToArray(c->projects, item))
        goto out;
    item = NULL;
    e = WSMS_OK;
out:
    if (e == E_INTERNAL_SERVER_ERROR)
        set_why(why, whylen, "%s: out of memory", c->prov);
    cJSON_Delete(item);
    return e;
}

/* GET url with the call's credentials; on WSMS_OK *json is the parsed body
 * (caller deletes) and *continuation (when asked for) the ADO token or NULL. */
static wsms_err fetch_json(struct call *c, const char *url, cJSON **json, char **continuation,
                           char *why, size_t whylen)
{
    wsms_err e;
    struct httpc_resp r = {0};
    char reason[256] = "";
    char origin[256];
    const char *headers[] = {c->auth, "Accept: application/json", NULL};

    *json = NULL;
    if (continuation)
        *continuation = NULL;
    url_origin(url, origin, sizeof(origin));
    e = httpc_request_until("GET", url, headers, NULL, 0, c->deadline, &r, reason, sizeof(reason));
    if (e != WSMS_OK) {
        set_why(why, whylen, "%s: %s", c->prov, reason);
        goto out;
    }
    if (r.status >= 300 && r.status < 400) {
        char to[256] = "(none)";
        if (r.location)
            url_origin(r.location, to, sizeof(to));
        log_warn(LG, "%s: upstream %s answered %ld redirect to %s; not followed", c->prov, origin,
                 r.status, to);
        set_why(why, whylen, "%s: upstream redirect (%ld) not followed", c->prov, r.status);
        e = E_EXTERNAL_SERVICE_ERROR;
        goto out;
    }
    if (r.status != 200) {
        log_warn(LG, "%s: upstream %s answered status %ld", c->prov, origin, r.status);
        set_why(why, whylen, "%s: upstream status %ld", c->prov, r.status);
        e = E_EXTERNAL_SERVICE_ERROR;
        goto out;
    }
    *json = cJSON_ParseWithLength(r.body, r.len);
    if (!*json || !cJSON_IsObject(*json)) {
        cJSON_Delete(*json);
        *json = NULL;
        log_warn(LG, "%s: upstream %s answered 200 with a body that is not a JSON object", c->prov,
                 origin);
        set_why(why, whylen, "%s: response is not a JSON object", c->prov);
        e = E_EXTERNAL_SERVICE_ERROR;
        goto out;
    }
    if (continuation) {
        *continuation = r.continuation;
        r.continuation = NULL;
    }
    e = WSMS_OK;
out:
    httpc_resp_free(&r);
    return e;
}

/* The named array member of a response, or an error. */
static wsms_err get_array(struct call *c, const cJSON *json, const char *name, cJSON **arr,
                          char *why, size_t whylen)
{
    *arr = cJSON_GetObjectItemCaseSensitive(json, name);
    if (!cJSON_IsArray(*arr)) {
        log_warn(LG, "%s: response has no \"%s\" array", c->prov, name);
        set_why(why, whylen, "%s: response has no \"%s\" array", c->prov, name);
        return E_EXTERNAL_SERVICE_ERROR;
    }
    return WSMS_OK;
}

static void page_cap_reached(const struct call *c)
{
    log_warn(LG, "%s: stopped after %d pages; the list may be incomplete", c->prov,
             INTEG_MAX_PAGES);
}

static wsms_err list_jira(struct call *c, char *why, size_t whylen)
{
    static const char *const names[] = {"name", NULL};
    static const struct field_map extra[] = {
        {"key", "key"}, {"description", "description"}, {"projectTypeKey", "projectTypeKey"}};
    wsms_err e = WSMS_OK;
    cJSON *json = NULL;
    char *url = NULL;
    long start = 0;
    int page;
    for (page = 0; page < INTEG_MAX_PAGES; page++) {
        free(url);
        url = str_printf("%s/rest/api/3/project/search?startAt=%ld&maxResults=%d", c->base, start,
                         INTEG_JIRA_PAGE_SIZE);
        if (!url) {
            e = E_INTERNAL_SERVER_ERROR;
            set_why(why, whylen, "jira: out of memory");
            goto out;
        }
        cJSON_Delete(json);
        e = fetch_json(c, url, &json, NULL, why, whylen);
        if (e != WSMS_OK)
            goto out;
        cJSON *values, *v;
        e = get_array(c, json, "values", &values, why, whylen);
        if (e != WSMS_OK)
            goto out;
        int n = 0;
        cJSON_ArrayForEach(v, values)
        {
            e = add_item(c, v, "id", names, extra, sizeof(extra) / sizeof(extra[0]), why, whylen);
            if (e != WSMS_OK)
                goto out;
            n++;
        }
        const cJSON *is_last = cJSON_GetObjectItemCaseSensitive(json, "isLast");
        const cJSON *total = cJSON_GetObjectItemCaseSensitive(json, "total");
        if (n == 0 || cJSON_IsTrue(is_last))
            break;
        if (!cJSON_IsBool(is_last)) {
            /* no isLast: fall back to total, then to a short page */
            if (cJSON_IsNumber(total) && (double)(start + n) >= total->valuedouble)
                break;
            if (!cJSON_IsNumber(total) && n < INTEG_JIRA_PAGE_SIZE)
                break;
        }
        start += n;
    }
    if (page == INTEG_MAX_PAGES)
        page_cap_reached(c);
out:
    free(url);
    cJSON_Delete(json);
    return e;
}

static wsms_err list_ado(struct call *c, char *why, size_t whylen)
{
    static const char *const names[] = {"name", NULL};
    static const struct field_map extra[] = {{"description", "description"}, {"state", "state"}};
    wsms_err e = WSMS_OK;
    cJSON *json = NULL;
    char *url = NULL, *token = NULL, *next = NULL, *enc = NULL;
    int page;
    for (page = 0; page < INTEG_MAX_PAGES; page++) {
        free(url);
        free(enc);
        enc = NULL;
        if (token) {
            enc = url_encode(token);
            url = enc ? str_printf("%s/_apis/projects?api-version=7.0&continuationToken=%s",
                                   c->base, enc)
                      : NULL;
        } else {
            url = str_printf("%s/_apis/projects?api-version=7.0", c->base);
        }
        if (!url) {
            e = E_INTERNAL_SERVER_ERROR;
            set_why(why, whylen, "ado: out of memory");
            goto out;
        }
        cJSON_Delete(json);
        e = fetch_json(c, url, &json, &next, why, whylen);
        if (e != WSMS_OK)
            goto out;
        cJSON *values, *v;
        e = get_array(c, json, "value", &values, why, whylen);
        if (e != WSMS_OK)
            goto out;
        cJSON_ArrayForEach(v, values)
        {
            e = add_item(c, v, "id", names, extra, sizeof(extra) / sizeof(extra[0]), why, whylen);
            if (e != WSMS_OK)
                goto out;
        }
        if (!next || !*next)
            break;
        if (token && strcmp(token, next) == 0) {
            log_warn(LG, "ado: continuation token repeated; stopping");
            break;
        }
        free(token);
        token = next;
        next = NULL;
    }
    if (page == INTEG_MAX_PAGES)
        page_cap_reached(c);
out:
    free(url);
    free(enc);
    free(token);
    free(next);
    cJSON_Delete(json);
    return e;
}

static wsms_err list_snow(struct call *c, char *why, size_t whylen)
{
    static const char *const names[] = {"name", NULL};
    static const struct field_map extra[] = {{"short_description", "description"}};
    wsms_err e;
    cJSON *json = NULL, *values, *v;
    char *url = str_printf("%s/api/sn_ppm/workspace/space", c->base);
    if (!url) {
        e = E_INTERNAL_SERVER_ERROR;
        set_why(why, whylen, "snow: out of memory");
        goto out;
    }
    e = fetch_json(c, url, &json, NULL, why, whylen);
    if (e != WSMS_OK)
        goto out;
    e = get_array(c, json, "result", &values, why, whylen);
    if (e != WSMS_OK)
        goto out;
    cJSON_ArrayForEach(v, values)
    {
        e = add_item(c, v, "sys_id", names, extra, sizeof(extra) / sizeof(extra[0]), why, whylen);
        if (e != WSMS_OK)
            goto out;
    }
out:
    free(url);
    cJSON_Delete(json);
    return e;
}

static wsms_err list_graph(struct call *c, char *why, size_t whylen)
{
    static const char *const names[] = {"displayName", "name", NULL};
    static const struct field_map extra[] = {{"webUrl", "webUrl"}, {"description", "description"}};
    wsms_err e = WSMS_OK;
    cJSON *json = NULL;
    char *url = str_printf("%s/v1.0/sites?search=*", c->base);
    int page;
    if (!url) {
        e = E_INTERNAL_SERVER_ERROR;
        set_why(why, whylen, "sharepoint: out of memory");
        goto out;
    }
    for (page = 0; page < INTEG_MAX_PAGES; page++) {
        cJSON_Delete(json);
        e = fetch_json(c, url, &json, NULL, why, whylen);
        if (e != WSMS_OK)
            goto out;
        cJSON *values, *v;
        e = get_array(c, json, "value", &values, why, whylen);
        if (e != WSMS_OK)
            goto out;
        cJSON_ArrayForEach(v, values)
        {
            e = add_item(c, v, "id", names, extra, sizeof(extra) / sizeof(extra[0]), why, whylen);
            if (e != WSMS_OK)
                goto out;
        }
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(json, "@odata.nextLink");
        if (!cJSON_IsString(next) || !next->valuestring || !*next->valuestring)
            break;
        if (!url_same_origin(next->valuestring, c->base)) {
            char to[256];
            url_origin(next->valuestring, to, sizeof(to));
            log_warn(LG,
                     "sharepoint: @odata.nextLink points to another origin (%s); "
                     "not followed, list may be incomplete",
                     to);
            break;
        }
        if (strcmp(next->valuestring, url) == 0) {
            log_warn(LG, "sharepoint: @odata.nextLink repeats the current page; stopping");
            break;
        }
        char *n = strdup(next->valuestring);
        if (!n) {
            e = E_INTERNAL_SERVER_ERROR;
            set_why(why, whylen, "sharepoint: out of memory");
            goto out;
        }
        free(url);
        url = n;
    }
    if (page == INTEG_MAX_PAGES)
        page_cap_reached(c);
out:
    free(url);
    cJSON_Delete(json);
    return e;
}

wsms_err integ_list(enum provider p, cJSON **out, char *why, size_t whylen)
{
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    const struct config *cfg = config_get();
    struct call c = {.prov = integ_provider_name(p)};
    cJSON *result = NULL;
    const char *base = NULL, *token = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (!out) {
        set_why(why, whylen, "bad arguments");
        goto out;
    }
    *out = NULL;
    switch (p) {
    case PROV_JIRA:
        base = cfg->jira_base_url, token = cfg->jira_api_token;
        break;
    case PROV_ADO:
        base = cfg->ado_org_url, token = cfg->ado_pat_token;
        break;
    case PROV_SNOW:
        base = cfg->snow_base_url, token = cfg->snow_api_token;
        break;
    case PROV_SP:
        base = cfg->graph_base_url, token = cfg->sharepoint_access_token;
        break;
    default:
        set_why(why, whylen, "unknown provider");
        goto out;
    }
    if (!base || !*base || !token || !*token) {
        e = E_INTEGRATION_NOT_CONFIGURED;
        set_why(why, whylen, "%s: not configured", c.prov);
        goto out;
    }
    c.deadline = httpc_deadline();
    c.base = strdup(base);
    if (!c.base) {
        set_why(why, whylen, "%s: out of memory", c.prov);
        goto out;
    }
    size_t bl = strlen(c.base);
    while (bl > 0 && c.base[bl - 1] == '/')
        c.base[--bl] = '\0';
    switch (p) {
    case PROV_JIRA:
        c.auth = cfg->jira_email && *cfg->jira_email ? basic_auth(cfg->jira_email, token)
                                                     : bearer_auth(token);
        break;
    case PROV_ADO:
        c.auth = basic_auth("", token);
        break;
    default:
        c.auth = bearer_auth(token);
        break;
    }
    result = cJSON_CreateObject();
    c.projects = result ? cJSON_AddArrayToObject(result, "projects") : NULL;
    if (!c.auth || !c.projects) {
        set_why(why, whylen, "%s: out of memory", c.prov);
        goto out;
    }
    switch (p) {
    case PROV_JIRA:
        e = list_jira(&c, why, whylen);
        break;
    case PROV_ADO:
        e = list_ado(&c, why, whylen);
        break;
    case PROV_SNOW:
        e = list_snow(&c, why, whylen);
        break;
    case PROV_SP:
        e = list_graph(&c, why, whylen);
        break;
    }
    if (e != WSMS_OK)
        goto out;
    *out = result;
    result = NULL;
out:
    cJSON_Delete(result);
    free(c.base);
    free_secret(c.auth);
    return e;
}
