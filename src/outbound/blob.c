/* blob: Azure Blob REST over httpc with Shared Key authorisation. See
 * blob.h for the contract and ownership. */
#include "outbound/blob.h"

#include "core/config.h"
#include "outbound/httpc.h"
#include "core/log.h"
#include "core/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LG             "blob"
#define MAX_XMS        6
#define MAX_LIST_PAGES 1000

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

/* ---- a growable string; any failure sticks in .err ---- */
struct sb {
    char *p;
    size_t len, cap;
    bool err;
};

static void sb_addn(struct sb *b, const char *s, size_t n)
{
    if (b->err)
        return;
    if (n > SIZE_MAX / 2 - b->len - 1) {
        b->err = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t want = b->cap ? b->cap * 2 : 256;
        while (want < b->len + n + 1)
            want *= 2;
        char *np = realloc(b->p, want);
        if (!np) {
            b->err = true;
            return;
        }
        b->p = np;
        b->cap = want;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(struct sb *b, const char *s)
{
    sb_addn(b, s, strlen(s));
}

/* The built string (caller frees), or NULL after any failure. */
static char *sb_take(struct sb *b)
{
    char *s = NULL;
    if (!b->err) {
        s = b->p ? b->p : strdup("");
        b->p = NULL;
    }
    free(b->p);
    memset(b, 0, sizeof(*b));
    return s;
}

static void free_secret(void *p, size_t n)
{
    if (p) {
        explicit_bzero(p, n);
        free(p);
    }
}

/* ---- connection string ---- */

void blob_account_free(struct blob_account *a)
{
    if (!a)
        return;
    free(a->account);
    free_secret(a->key, a->keylen);
    free(a->endpoint);
    memset(a, 0, sizeof(*a));
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

static bool is_http_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

int blob_parse_connection_string(const char *cs, struct blob_account *out, char *why, size_t whylen)
{
    int rc = -1;
    char *copy = NULL, *save = NULL;
    const char *proto = NULL, *name = NULL, *key = NULL, *endpoint = NULL, *suffix = NULL;
    bool dev = false, sas = false;

    if (!out) {
        set_why(why, whylen, "bad arguments");
        goto out;
    }
    memset(out, 0, sizeof(*out));
    if (!cs || !*cs) {
        set_why(why, whylen, "connection string is empty");
        goto out;
    }
    copy = strdup(cs);
    if (!copy) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    for (char *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
        tok = trim(tok);
        if (!*tok)
            continue;
        char *eq = strchr(tok, '=');
        if (!eq) {
            set_why(why, whylen, "connection string has a part without '='");
            goto out;
        }
        *eq = '\0';
        char *k = trim(tok), *v = trim(eq + 1);
        if (strcasecmp(k, "DefaultEndpointsProtocol") == 0)
            proto = v;
        else if (strcasecmp(k, "AccountName") == 0)
            name = v;
        else if (strcasecmp(k, "AccountKey") == 0)
            key = v;
        else if (strcasecmp(k, "BlobEndpoint") == 0)
            endpoint = v;
        else if (strcasecmp(k, "EndpointSuffix") == 0)
            suffix = v;
        else if (strcasecmp(k, "UseDevelopmentStorage") == 0)
            dev = strcasecmp(v, "true") == 0;
        else if (strcasecmp(k, "SharedAccessSignature") == 0)
            sas = true;
        /* other keys (QueueEndpoint, ...) do not concern blobs */
    }
    if (dev) {
        name = BLOB_DEV_ACCOUNT;
        key = BLOB_DEV_KEY;
        if (!endpoint)
            endpoint = BLOB_DEV_ENDPOINT;
    }
    if (!name || !*name) {
        set_why(why, whylen, "connection string has no AccountName");
        goto out;
    }
    for (const char *p = name; *p; p++) {
        if (!isalnum((unsigned char)*p) || p - name >= 64) {
            set_why(why, whylen, "AccountName is not valid");
            goto out;
        }
    }
    if (!key || !*key) {
        set_why(why, whylen,
                sas ? "SharedAccessSignature is not supported; use AccountKey"
                    : "connection string has no AccountKey");
        goto out;
    }
    out->account = strdup(name);
    out->key = b64_decode(key, strlen(key), &out->keylen);
    if (!out->account) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    if (!out->key || out->keylen == 0) {
        set_why(why, whylen, "AccountKey is not valid base64");
        goto out;
    }
    if (endpoint && *endpoint) {
        if (!is_http_url(endpoint)) {
            set_why(why, whylen, "BlobEndpoint must start with http:// or https://");
            goto out;
        }
        out->endpoint = strdup(endpoint);
    } else {
        if (!proto || !*proto)
            proto = "https";
        if (strcasecmp(proto, "https") != 0 && strcasecmp(proto, "http") != 0) {
            set_why(why, whylen, "DefaultEndpointsProtocol must be http or https");
            goto out;
        }
        if (!suffix || !*suffix)
            suffix = "core.windows.net";
        size_t n = strlen(proto) + strlen(name) + strlen(suffix) + 16;
        out->endpoint = malloc(n);
        if (out->endpoint &&
            snprintf(out->endpoint, n, "%s://%s.blob.%s", proto, name, suffix) >= (int)n) {
            set_why(why, whylen, "endpoint too long");
            goto out;
        }
    }
    if (!out->endpoint) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    size_t el = strlen(out->endpoint);
    while (el > 0 && out->endpoint[el - 1] == '/')
        out->endpoint[--el] = '\0';
    rc = 0;
out:
    if (copy) {
        explicit_bzero(copy, strlen(cs));
        free(copy);
    }
    if (rc != 0)
        blob_account_free(out);
    return rc;
}

/* ---- signing ---- */

int blob_rfc1123(time_t t, char out[30])
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    char buf[64];
    if (!gmtime_r(&t, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 || tm.tm_mon > 11)
        return -1;
    int n =
        snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[tm.tm_wday],
                 tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n < 0 || n >= 30)
        return -1;
    memcpy(out, buf, (size_t)n + 1);
    return 0;
}

struct kv_owned {
    char *name; /* lowercased copy */
    const char *value;
};

static int kv_cmp(const void *a, const void *b)
{
    const struct kv_owned *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Lowercased, sorted copies of name/value pairs; only names starting with
 * `only_prefix` when it is not NULL. Returns count or -1. */
static long kv_sorted(const struct blob_kv *in, size_t n, const char *only_prefix,
                      struct kv_owned **out)
{
    long rc = -1;
    size_t m = 0;
    struct kv_owned *v = calloc(n ? n : 1, sizeof(*v));
    if (!v)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!in[i].name || !in[i].value || strpbrk(in[i].value, "\r\n"))
            goto out;
        size_t nl = strlen(in[i].name);
        char *low = malloc(nl + 1);
        if (!low || ascii_lower(in[i].name, low, nl + 1) != 0) {
            free(low);
            goto out;
        }
        if (only_prefix && strncmp(low, only_prefix, strlen(only_prefix)) != 0) {
            free(low);
            continue;
        }
        v[m].name = low;
        v[m].value = in[i].value;
        m++;
    }
    qsort(v, m, sizeof(*v), kv_cmp);
    rc = (long)m;
out:
    if (rc < 0 && v) {
        for (size_t i = 0; i < m; i++)
            free(v[i].name);
        free(v);
        v = NULL;
    }
    *out = v;
    return rc;
}

static void kv_free(struct kv_owned *v, long n)
{
    for (long i = 0; v && i < n; i++)
        free(v[i].name);
    free(v);
}

char *blob_string_to_sign(const char *account, const struct blob_sign_input *in)
{
    struct sb b = {0};
    struct kv_owned *hs = NULL, *qs = NULL;
    long nh = -1, nq = -1;
    char *res = NULL;
    char num[32];

    if (!account || !in || !in->verb || !in->path || (in->nquery && !in->query) ||
        (in->nheaders && !in->headers))
        goto out;
    if ((in->content_type && strpbrk(in->content_type, "\r\n")) || strpbrk(in->path, "\r\n"))
        goto out;
    nh = kv_sorted(in->headers, in->nheaders, "x-ms-", &hs);
    nq = kv_sorted(in->query, in->nquery, NULL, &qs);
    if (nh < 0 || nq < 0)
        goto out;

    sb_add(&b, in->verb);
    sb_add(&b, "\n\n\n"); /* Content-Encoding, Content-Language */
    if (in->content_length) {
        snprintf(num, sizeof(num), "%zu", in->content_length);
        sb_add(&b, num);
    }
    sb_add(&b, "\n\n"); /* Content-Length, Content-MD5 */
    if (in->content_type)
        sb_add(&b, in->content_type);
    sb_add(&b, "\n");
    /* Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since,
     * Range: always empty here (x-ms-date carries the date) */
    sb_add(&b, "\n\n\n\n\n\n");
    for (long i = 0; i < nh; i++) {
        sb_add(&b, hs[i].name);
        sb_add(&b, ":");
        /* trim the value; values here never hold folded whitespace */
        const char *v = hs[i].value;
        size_t vl = strlen(v);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        sb_addn(&b, v, vl);
        sb_add(&b, "\n");
    }
    sb_add(&b, "/");
    sb_add(&b, account);
    sb_add(&b, in->path);
    for (long i = 0; i < nq; i++) {
        if (i > 0 && strcmp(qs[i].name, qs[i - 1].name) == 0) {
            sb_add(&b, ","); /* repeated parameter: values joined, sorted */
        } else {
            sb_add(&b, "\n");
            sb_add(&b, qs[i].name);
            sb_add(&b, ":");
        }
        sb_add(&b, qs[i].value);
    }
    res = sb_take(&b);
out:
    free(b.p);
    kv_free(hs, nh);
    kv_free(qs, nq);
    return res;
}

int blob_authorization(const struct blob_account *a, const char *string_to_sign, char *out,
                       size_t outlen)
{
    int rc = -1;
    unsigned char mac[32];
    char *sig = NULL;
    if (!a || !a->account || !a->key || !string_to_sign || !out)
        goto out;
    if (hmac_sha256(a->key, a->keylen, string_to_sign, strlen(string_to_sign), mac) != 0)
        goto out;
    sig = b64_encode(mac, sizeof(mac));
    if (!sig)
        goto out;
    int n = snprintf(out, outlen, "SharedKey %s:%s", a->account, sig);
    if (n < 0 || (size_t)n >= outlen)
        goto out;
    rc = 0;
out:
    explicit_bzero(mac, sizeof(mac));
    free(sig);
    return rc;
}

/* ---- requests ---- */

/* The path part of the endpoint ("/devstoreaccount1" for Azurite's
 * path-style endpoint, "" for https://acct.blob.core.windows.net). */
static const char *endpoint_path(const char *endpoint)
{
    const char *p = strstr(endpoint, "://");
    p = p ? p + 3 : endpoint;
    p = strchr(p, '/');
    return p ? p : "";
}

/* One signed request. rpath: "/container[/blob]" already percent-encoded.
 * Returns 0 with *r filled (any status), or -1 with why. */
static int blob_call_body(const struct blob_account *a, int64_t deadline, const char *verb,
                          const char *rpath, const struct blob_kv *q, size_t nq,
                          const struct blob_kv *xh, size_t nxh, const char *body, size_t body_len,
                          const char *content_type, struct httpc_resp *r, char *why, size_t whylen)
{
    int rc = -1;
    char date[30];
    char auth[256];
    char *sts = NULL, *path = NULL, *url = NULL;
    char *hdr_strs[MAX_XMS + 2] = {0};
    const char *headers[MAX_XMS + 3] = {0};
    struct blob_kv ms[MAX_XMS];
    size_t nms = 0;
    struct sb b = {0};

    auth[0] = '\0';
    if (nxh > MAX_XMS - 2 || blob_rfc1123(time(NULL), date) != 0) {
        set_why(why, whylen, "internal error building the request");
        goto out;
    }
    ms[nms++] = (struct blob_kv){"x-ms-date", date};
    ms[nms++] = (struct blob_kv){"x-ms-version", BLOB_API_VERSION};
    for (size_t i = 0; i < nxh; i++)
        ms[nms++] = xh[i];

    sb_add(&b, endpoint_path(a->endpoint));
    sb_add(&b, rpath);
    path = sb_take(&b);
    if (!path) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    struct blob_sign_input in = {.verb = verb,
                                 .path = path,
                                 .query = q,
                                 .nquery = nq,
                                 .headers = ms,
                                 .nheaders = nms,
                                 .content_length = body ? body_len : 0,
                                 .content_type = content_type};
    sts = blob_string_to_sign(a->account, &in);
    if (!sts || blob_authorization(a, sts, auth, sizeof(auth)) != 0) {
        set_why(why, whylen, "signing the request failed");
        goto out;
    }

    sb_add(&b, a->endpoint);
    sb_add(&b, rpath);
    for (size_t i = 0; i < nq; i++) {
        char *enc = url_encode(q[i].value);
        if (!enc) {
            b.err = true;
            break;
        }
        sb_add(&b, i ? "&" : "?");
        sb_add(&b, q[i].name);
        sb_add(&b, "=");
        sb_add(&b, enc);
        free(enc);
    }
    url = sb_take(&b);
    if (!url) {
        set_why(why, whylen, "out of memory");
        goto out;
    }

    for (size_t i = 0; i < nms; i++) {
        sb_add(&b, ms[i].name);
        sb_add(&b, ": ");
        sb_add(&b, ms[i].value);
        hdr_strs[i] = sb_take(&b);
        if (!hdr_strs[i]) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
        headers[i] = hdr_strs[i];
    }
    sb_add(&b, "Authorization: ");
    sb_add(&b, auth);
    hdr_strs[nms] = sb_take(&b);
    if (!hdr_strs[nms]) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    headers[nms] = hdr_strs[nms];
    if (content_type) {
        sb_add(&b, "Content-Type: ");
        sb_add(&b, content_type);
        hdr_strs[nms + 1] = sb_take(&b);
        if (!hdr_strs[nms + 1]) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
        headers[nms + 1] = hdr_strs[nms + 1];
    }

    bool put = strcmp(verb, "PUT") == 0;
    wsms_err e = httpc_request_until(verb, url, headers,
                                     body  ? body
                                     : put ? ""
                                           : NULL,
                                     body ? body_len : 0, deadline, r, why, whylen);
    if (e != WSMS_OK)
        goto out;
    rc = 0;
out:
    free(b.p);
    free(sts);
    free(path);
    free(url);
    for (size_t i = 0; i <= MAX_XMS + 1; i++) {
        if (hdr_strs[i])
            free_secret(hdr_strs[i], strlen(hdr_strs[i]));
    }
    explicit_bzero(auth, sizeof(auth));
    return rc;
}

static int blob_call(const struct blob_account *a, int64_t deadline, const char *verb,
                     const char *rpath, const struct blob_kv *q, size_t nq,
                     const struct blob_kv *xh, size_t nxh, struct httpc_resp *r, char *why,
                     size_t whylen)
{
    return blob_call_body(a, deadline, verb, rpath, q, nq, xh, nxh, NULL, 0, NULL, r, why, whylen);
}

/* Copies the service's <Code>...</Code> (printable, short) into out. */
static void error_code(const struct httpc_resp *r, char *out, size_t outlen)
{
    snprintf(out, outlen, "-");
    if (!r->body)
        return;
    const char *s = strstr(r->body, "<Code>");
    if (!s)
        return;
    s += 6;
    const char *e = strstr(s, "</Code>");
    if (!e)
        return;
    size_t n = (size_t)(e - s), j = 0;
    for (size_t i = 0; i < n && j + 1 < outlen && j < 64; i++)
        if (isalnum((unsigned char)s[i]))
            out[j++] = s[i];
    out[j] = '\0';
}

static void status_why(const struct httpc_resp *r, const char *what, char *why, size_t whylen)
{
    char code[72];
    error_code(r, code, sizeof(code));
    if (r->status == 403 || r->status == 401)
        set_why(why, whylen, "authentication failed (%ld) during %s: %s", r->status, what, code);
    else
        set_why(why, whylen, "%s failed with status %ld: %s", what, r->status, code);
}

static bool container_name_ok(const char *c)
{
    size_t n = strlen(c);
    if (n < 3 || n > 63 || c[0] == '-' || c[n - 1] == '-' || strstr(c, "--"))
        return false;
    for (; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
            return false;
    return true;
}

/* Common start of an operation: 1 not configured, 0 ready, -1 failed. */
static int begin(struct blob_account *a, const char **container, char *why, size_t whylen)
{
    const struct config *cfg = config_get();
    if (!cfg->azure_storage_connection_string || !*cfg->azure_storage_connection_string)
        return 1;
    *container = cfg->azure_storage_container_name;
    if (!*container || !container_name_ok(*container)) {
        set_why(why, whylen, "AZURE_STORAGE_CONTAINER_NAME is not a valid container name");
        return -1;
    }
    return blob_parse_connection_string(cfg->azure_storage_connection_string, a, why, whylen);
}

int blob_create_workspace_folders(const char *workspace_id, char *why, size_t whylen)
{
    static const char *const folders[] = {"documents", "attachments", "logs"};
    int rc = -1;
    struct blob_account a = {0};
    struct httpc_resp r = {0};
    const char *container = NULL;
    char id[GUID_LEN + 1] = "?";
    char rpath[256];

    if (why && whylen)
        why[0] = '\0';
    if (!workspace_id || guid_normalize(workspace_id, id) != 0) {
        snprintf(id, sizeof(id), "?");
        set_why(why, whylen, "workspace id is not a GUID");
        goto out;
    }
    rc = begin(&a, &container, why, whylen);
    if (rc == 1) {
        log_info(LG, "blob storage not configured; folders for workspace %s skipped", id);
        goto out;
    }
    if (rc != 0)
        goto out;
    rc = -1;
    int64_t deadline = httpc_deadline();

    static const struct blob_kv create_q[] = {{"restype", "container"}};
    if (snprintf(rpath, sizeof(rpath), "/%s", container) >= (int)sizeof(rpath)) {
        set_why(why, whylen, "container name too long");
        goto out;
    }
    if (blob_call(&a, deadline, "PUT", rpath, create_q, 1, NULL, 0, &r, why, whylen) != 0)
        goto out;
    if (r.status != 201 &&
        !(r.status == 409 && r.body && strstr(r.body, "ContainerAlreadyExists"))) {
        status_why(&r, "create container", why, whylen);
        goto out;
    }
    httpc_resp_free(&r);

    static const struct blob_kv blob_type[] = {{"x-ms-blob-type", "BlockBlob"}};
    for (size_t i = 0; i < sizeof(folders) / sizeof(folders[0]); i++) {
        if (snprintf(rpath, sizeof(rpath), "/%s/workspaces/%s/%s/.keep", container, id,
                     folders[i]) >= (int)sizeof(rpath)) {
            set_why(why, whylen, "blob path too long");
            goto out;
        }
        if (blob_call(&a, deadline, "PUT", rpath, NULL, 0, blob_type, 1, &r, why, whylen) != 0)
            goto out;
        if (r.status != 201) {
            status_why(&r, "put blob", why, whylen);
            goto out;
        }
        httpc_resp_free(&r);
    }
    log_info(LG, "folders created for workspace %s", id);
    rc = 0;
out:
    if (rc < 0)
        log_warn(LG, "folders for workspace %s not created: %s", id, why && whylen ? why : "");
    httpc_resp_free(&r);
    blob_account_free(&a);
    return rc;
}

/* Decodes the five XML entities of [s, s+n) into a new string. */
static char *xml_unescape(const char *s, size_t n)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    char *o = malloc(n + 1);
    size_t j = 0;
    if (!o)
        return NULL;
    for (size_t i = 0; i < n;) {
        bool done = false;
        if (s[i] == '&') {
            for (size_t k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
                size_t el = strlen(ents[k].ent);
                if (i + el <= n && strncmp(s + i, ents[k].ent, el) == 0) {
                    o[j++] = ents[k].c;
                    i += el;
                    done = true;
                    break;
                }
            }
        }
        if (!done)
            o[j++] = s[i++];
    }
    o[j] = '\0';
    return o;
}

/* Text of the first <tag>...</tag> (tag may carry attributes) in [s, end);
 * *after points past it. NULL when absent (or *oom set on failure). */
static char *xml_elem(const char *s, const char *end, const char *tag, const char **after,
                      bool *oom)
{
    size_t tl = strlen(tag);
    for (const char *p = s; p && p < end; p++) {
        p = memchr(p, '<', (size_t)(end - p));
        if (!p)
            return NULL;
        if ((size_t)(end - p) > tl + 1 && strncmp(p + 1, tag, tl) == 0 &&
            (p[tl + 1] == '>' || p[tl + 1] == ' ')) {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (!gt || gt[-1] == '/')
                return NULL; /* <Tag /> */
            const char *open = gt + 1;
            const char *close = open;
            while (close < end && !(*close == '<' && close[1] == '/' &&
                                    strncmp(close + 2, tag, tl) == 0 && close[tl + 2] == '>'))
                close++;
            if (close >= end)
                return NULL;
            *after = close + tl + 3;
            char *t = xml_unescape(open, (size_t)(close - open));
            if (!t)
                *oom = true;
            return t;
        }
    }
    return NULL;
}

int blob_list(const char *prefix, cJSON **names, char *why, size_t whylen)
{
    int rc = -1;
    struct blob_account a = {0};
    struct httpc_resp r = {0};
    const char *container = NULL;
    char *marker = NULL;
    char rpath[80];
    cJSON *arr = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (names)
        *names = NULL;
    if (!names || !prefix) {
        set_why(why, whylen, "bad arguments");
        goto out;
    }
    rc = begin(&a, &container, why, whylen);
    if (rc != 0)
        goto out;
    rc = -1;
    arr = cJSON_CreateArray();
    if (!arr) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    if (snprintf(rpath, sizeof(rpath), "/%s", container) >= (int)sizeof(rpath)) {
        set_why(why, whylen, "container name too long");
        goto out;
    }
    int64_t deadline = httpc_deadline();
    for (int page = 0; page < MAX_LIST_PAGES; page++) {
        struct blob_kv q[4] = {
            {"restype", "container"}, {"comp", "list"}, {"prefix", prefix}, {"marker", marker}};
        if (blob_call(&a, deadline, "GET", rpath, q, marker ? 4 : 3, NULL, 0, &r, why, whylen) != 0)
            goto out;
        if (r.status != 200) {
            status_why(&r, "list blobs", why, whylen);
            goto out;
        }
        bool oom = false;
        const char *end = r.body + r.len, *after = NULL;
        const char *blobs = strstr(r.body, "<Blobs>");
        const char *blobs_end = blobs ? strstr(blobs, "</Blobs>") : NULL;
        if (!blobs_end) {
            if (!strstr(r.body, "<Blobs />") && !strstr(r.body, "<Blobs/>")) {
                set_why(why, whylen, "list blobs: unexpected response");
                goto out;
            }
        } else {
            const char *p = blobs;
            char *name;
            while ((name = xml_elem(p, blobs_end, "Name", &after, &oom)) != NULL) {
                cJSON *s = cJSON_CreateString(name);
                free(name);
                if (!s || !cJSON_AddItemToArray(arr, s)) {
                    cJSON_Delete(s);
                    oom = true;
                    break;
                }
                p = after;
            }
        }
        free(marker);
        marker = oom ? NULL : xml_elem(r.body, end, "NextMarker", &after, &oom);
        if (oom) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
        httpc_resp_free(&r);
        if (!marker || !*marker)
            break;
    }
    *names = arr;
    arr = NULL;
    rc = 0;
out:
    if (rc < 0)
        log_warn(LG, "listing blobs failed: %s", why && whylen ? why : "");
    free(marker);
    cJSON_Delete(arr);
    httpc_resp_free(&r);
    blob_account_free(&a);
    return rc;
}

/* Percent-encodes a blob path, keeping '/' and the unreserved characters. */
static char *path_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(n * 3 + 1), *p = o;
    if (!o)
        return NULL;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    *p = '\0';
    return o;
}

int blob_put(const char *name, const char *data, size_t len, const char *content_type, char *url,
             size_t urllen, char *why, size_t whylen)
{
    int rc = -1;
    struct blob_account a = {0};
    struct httpc_resp r = {0};
    const char *container = NULL;
    char *enc = NULL, *rpath = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (url && urllen)
        url[0] = '\0';
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || !data) {
        set_why(why, whylen, "bad blob name");
        goto out;
    }
    rc = begin(&a, &container, why, whylen);
    if (rc != 0)
        goto out;
    rc = -1;
    int64_t deadline = httpc_deadline();
    size_t rlen = 0;
    if (!(enc = path_encode(name)) ||
        !(rpath = malloc(rlen = strlen(container) + strlen(enc) + 3))) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    snprintf(rpath, rlen, "/%s", container);
    static const struct blob_kv create_q[] = {{"restype", "container"}};
    if (blob_call(&a, deadline, "PUT", rpath, create_q, 1, NULL, 0, &r, why, whylen) != 0)
        goto out;
    if (r.status != 201 &&
        !(r.status == 409 && r.body && strstr(r.body, "ContainerAlreadyExists"))) {
        status_why(&r, "create container", why, whylen);
        goto out;
    }
    httpc_resp_free(&r);
    snprintf(rpath, rlen, "/%s/%s", container, enc);
    static const struct blob_kv blob_type[] = {{"x-ms-blob-type", "BlockBlob"}};
    if (blob_call_body(&a, deadline, "PUT", rpath, NULL, 0, blob_type, 1, data, len, content_type,
                       &r, why, whylen) != 0)
        goto out;
    if (r.status != 201) {
        status_why(&r, "put blob", why, whylen);
        goto out;
    }
    if (url && (size_t)snprintf(url, urllen, "%s%s", a.endpoint, rpath) >= urllen) {
        set_why(why, whylen, "blob URL too long");
        goto out;
    }
    log_info(LG, "blob %s written (%zu bytes)", name, len);
    rc = 0;
out:
    if (rc < 0)
        log_warn(LG, "blob %s not written: %s", name ? name : "?", why && whylen ? why : "");
    httpc_resp_free(&r);
    blob_account_free(&a);
    free(enc);
    free(rpath);
    return rc;
}

int blob_get(const char *name, char **data, size_t *len, char *why, size_t whylen)
{
    int rc = -1;
    struct blob_account a = {0};
    struct httpc_resp r = {0};
    const char *container = NULL;
    char *enc = NULL, *rpath = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (data)
        *data = NULL;
    if (len)
        *len = 0;
    if (!name || !*name || name[0] == '/' || strstr(name, "..") || !data || !len) {
        set_why(why, whylen, "bad arguments");
        goto out;
    }
    rc = begin(&a, &container, why, whylen);
    if (rc != 0)
        goto out;
    rc = -1;
    size_t rlen = 0;
    if (!(enc = path_encode(name)) ||
        !(rpath = malloc(rlen = strlen(container) + strlen(enc) + 3))) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    snprintf(rpath, rlen, "/%s/%s", container, enc);
    if (blob_call(&a, httpc_deadline(), "GET", rpath, NULL, 0, NULL, 0, &r, why, whylen) != 0)
        goto out;
    if (r.status != 200) {
        status_why(&r, "get blob", why, whylen);
        goto out;
    }
    *len = r.body ? r.len : 0;
    if (!(*data = malloc(*len + 1))) {
        set_why(why, whylen, "out of memory");
        goto out;
    }
    if (*len)
        memcpy(*data, r.body, *len);
    (*data)[*len] = '\0';
    rc = 0;
out:
    httpc_resp_free(&r);
    blob_account_free(&a);
    free(enc);
    free(rpath);
    return rc;
}
