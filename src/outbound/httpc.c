/* httpc: outbound HTTP over one reused libcurl easy handle. See httpc.h for
 * the policy and ownership rules. */
#include "outbound/httpc.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

static CURL *easy;      /* this process's handle */
static pid_t easy_pid;  /* process that created it */
static CURL *inherited; /* a parent's handle after fork: never touched again */
static bool global_ready;

struct xfer {
    char *buf;
    size_t len, cap;
    bool too_big;
    bool oom;
    char *location;
    char *continuation;
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

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (n > HTTPC_MAX_BODY - x->len) {
        x->too_big = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (x->len + n + 1 > x->cap) {
        size_t want = x->cap ? x->cap * 2 : 16384;
        if (want < x->len + n + 1)
            want = x->len + n + 1;
        if (want > HTTPC_MAX_BODY + 1)
            want = HTTPC_MAX_BODY + 1;
        char *nb = realloc(x->buf, want);
        if (!nb) {
            x->oom = true;
            return 0;
        }
        x->buf = nb;
        x->cap = want;
    }
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    x->buf[x->len] = '\0';
    return n;
}

/* Copies the value of "Name: value\r\n" when the name matches. */
static int header_value(const char *line, size_t n, const char *name, char **dst)
{
    size_t nl = strlen(name);
    if (n <= nl || line[nl] != ':' || strncasecmp(line, name, nl) != 0)
        return 0;
    const char *v = line + nl + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char *copy = strndup(v, (size_t)(end - v));
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 1;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* a new response (after a 1xx): forget the previous one's headers */
        free(x->location);
        free(x->continuation);
        x->location = x->continuation = NULL;
        return n;
    }
    if (header_value(data, n, "Location", &x->location) < 0 ||
        header_value(data, n, "x-ms-continuationtoken", &x->continuation) < 0) {
        x->oom = true;
        return 0;
    }
    return n;
}

static CURL *get_handle(void)
{
    if (easy && easy_pid == getpid()) {
        curl_easy_reset(easy);
        return easy;
    }
    if (easy) {
        /* Created by the parent before fork: its sockets and TLS state are
         * shared with the parent, so leave it alone and start afresh. */
        inherited = easy;
        easy = NULL;
    }
    if (!global_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        global_ready = true;
    }
    easy = curl_easy_init();
    easy_pid = getpid();
    return easy;
}

void httpc_cleanup(void)
{
    if (easy && easy_pid == getpid())
        curl_easy_cleanup(easy);
    easy = NULL;
    if (global_ready)
        curl_global_cleanup();
    global_ready = false;
}

void httpc_resp_free(struct httpc_resp *r)
{
    if (!r)
        return;
    free(r->body);
    free(r->location);
    free(r->continuation);
    memset(r, 0, sizeof(*r));
}

int64_t httpc_deadline(void)
{
    const struct config *c = config_get();
    long s = c->integration_timeout_s > 0 ? c->integration_timeout_s : 10;
    return mono_ms() + (int64_t)s * 1000;
}

wsms_err httpc_request(const char *method, const char *url, const char *const *headers,
                       const char *body, size_t body_len, struct httpc_resp *out, char *why,
                       size_t whylen)
{
    return httpc_request_until(method, url, headers, body, body_len, httpc_deadline(), out, why,
                               whylen);
}

static bool has_header(const char *const *headers, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, nl) == 0 && headers[i][nl] == ':')
            return true;
    return false;
}

#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (curl_easy_setopt(h, opt, val) != CURLE_OK) {                                           \
            set_why(why, whylen, "curl option %s rejected", #opt);                                 \
            e = E_INTERNAL_SERVER_ERROR;                                                           \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

wsms_err httpc_request_until(const char *method, const char *url, const char *const *headers,
                             const char *body, size_t body_len, int64_t deadline_ms,
                             struct httpc_resp *out, char *why, size_t whylen)
{
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    struct curl_slist *hl = NULL;
    struct xfer x = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    char origin[256] = "?";
    CURL *h = NULL;

    if (why && whylen)
        why[0] = '\0';
    if (out)
        memset(out, 0, sizeof(*out));
    if (!out || !method || !url || (!body && body_len)) {
        set_why(why, whylen, "bad arguments");
        goto out;
    }
    url_origin(url, origin, sizeof(origin));

    int64_t remaining = deadline_ms - mono_ms();
    if (remaining <= 0) {
        set_why(why, whylen, "deadline passed before the request to %s", origin);
        e = E_REQUEST_TIMEOUT;
        goto out;
    }
    long connect_ms =
        remaining < HTTPC_CONNECT_TIMEOUT_MS ? (long)remaining : HTTPC_CONNECT_TIMEOUT_MS;

    h = get_handle();
    if (!h) {
        set_why(why, whylen, "curl initialisation failed");
        goto out;
    }

    for (size_t i = 0; headers && headers[i]; i++) {
        if (strpbrk(headers[i], "\r\n")) {
            set_why(why, whylen, "header contains a line break");
            goto out;
        }
        struct curl_slist *t = curl_slist_append(hl, headers[i]);
        if (!t) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
        hl = t;
    }
    bool send_body = body || strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0;
    if (send_body) {
        /* curl would add these on its own; they change what is signed (Blob) */
        const char *suppress[] = {"Expect:", "Content-Type:"};
        for (size_t i = 0; i < 2; i++) {
            if (i == 1 && has_header(headers, "Content-Type"))
                continue;
            struct curl_slist *t = curl_slist_append(hl, suppress[i]);
            if (!t) {
                set_why(why, whylen, "out of memory");
                goto out;
            }
            hl = t;
        }
    }

    const struct config *cfg = config_get();
    SETOPT(CURLOPT_URL, url);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
    /* "" disables proxies from the environment; NOPROXY "" makes the
     * environment's no_proxy irrelevant too: OUTBOUND_PROXY alone decides */
    SETOPT(CURLOPT_PROXY, cfg->outbound_proxy ? cfg->outbound_proxy : "");
    SETOPT(CURLOPT_NOPROXY, "");
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)remaining);
    SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTPC_MAX_BODY);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &x);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, &x);
    SETOPT(CURLOPT_ERRORBUFFER, errbuf);
    SETOPT(CURLOPT_USERAGENT, "wsms/0.1");
    SETOPT(CURLOPT_HTTPHEADER, hl);
    if (strcmp(method, "GET") == 0) {
        SETOPT(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        SETOPT(CURLOPT_NOBODY, 1L);
    } else {
        SETOPT(CURLOPT_CUSTOMREQUEST, method);
    }
    if (send_body) {
        SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        SETOPT(CURLOPT_POSTFIELDS, body ? body : "");
    }

    CURLcode rc = curl_easy_perform(h);
    switch (rc) {
    case CURLE_OK:
        break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        e = E_NETWORK_ERROR;
        set_why(why, whylen, "could not resolve %s",
                rc == CURLE_COULDNT_RESOLVE_PROXY ? "proxy" : "host");
        goto out;
    case CURLE_COULDNT_CONNECT: {
        long oserr = 0;
        e = E_NETWORK_ERROR;
        if (curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr) == CURLE_OK && oserr == ECONNREFUSED)
            set_why(why, whylen, "connection refused");
        else if (oserr)
            set_why(why, whylen, "connect failed: %s", strerror((int)oserr));
        else
            set_why(why, whylen, "connect failed");
        goto out;
    }
    case CURLE_OPERATION_TIMEDOUT: {
        curl_off_t connected = 0;
        if (curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected) != CURLE_OK)
            connected = 0;
        if (connected == 0 && connect_ms < remaining && mono_ms() < deadline_ms) {
            e = E_NETWORK_ERROR;
            set_why(why, whylen, "connect timed out after %ld ms", connect_ms);
        } else {
            e = E_REQUEST_TIMEOUT;
            set_why(why, whylen, "timed out after %lld ms", (long long)remaining);
        }
        goto out;
    }
    case CURLE_FILESIZE_EXCEEDED:
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "response larger than %u bytes", HTTPC_MAX_BODY);
        goto out;
    case CURLE_WRITE_ERROR:
        if (x.too_big) {
            e = E_EXTERNAL_SERVICE_ERROR;
            set_why(why, whylen, "response larger than %u bytes", HTTPC_MAX_BODY);
        } else if (x.oom) {
            e = E_INTERNAL_SERVER_ERROR;
            set_why(why, whylen, "out of memory reading the response");
        } else {
            e = E_EXTERNAL_SERVICE_ERROR;
            set_why(why, whylen, "write error");
        }
        goto out;
    default:
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "transfer failed: %s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        goto out;
    }
    if (x.oom) {
        set_why(why, whylen, "out of memory reading the response");
        goto out;
    }
    if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status) != CURLE_OK) {
        e = E_EXTERNAL_SERVICE_ERROR;
        set_why(why, whylen, "no response status");
        goto out;
    }
    if (!x.buf) {
        x.buf = calloc(1, 1);
        if (!x.buf) {
            set_why(why, whylen, "out of memory");
            goto out;
        }
    }
    out->body = x.buf;
    out->len = x.len;
    out->location = x.location;
    out->continuation = x.continuation;
    x.buf = x.location = x.continuation = NULL;
    e = WSMS_OK;
out:
    if (e != WSMS_OK)
        log_warn("httpc", "%s %s failed: %s", method ? method : "?", origin,
                 why && whylen ? why : "");
    if (e != WSMS_OK && out) {
        out->status = 0;
    }
    free(x.buf);
    free(x.location);
    free(x.continuation);
    curl_slist_free_all(hl);
    if (h) {
        /* drop pointers into this frame and the header list; failure here
         * is harmless because the next call resets the handle first */
        (void)curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        (void)curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    }
    return e;
}

static bool parse_origin(const char *url, char **scheme, char **host, char **port)
{
    bool ok = false;
    CURLU *u = curl_url();
    *scheme = *host = *port = NULL;
    if (!u || !url)
        goto out;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    if (strcasecmp(*scheme, "http") != 0 && strcasecmp(*scheme, "https") != 0)
        goto out;
    ok = true;
out:
    if (!ok) {
        curl_free(*scheme);
        curl_free(*host);
        curl_free(*port);
        *scheme = *host = *port = NULL;
    }
    curl_url_cleanup(u);
    return ok;
}

bool url_same_origin(const char *a, const char *b)
{
    char *s1, *h1, *p1, *s2, *h2, *p2;
    bool same = false;
    bool ok1 = parse_origin(a, &s1, &h1, &p1);
    bool ok2 = parse_origin(b, &s2, &h2, &p2);
    if (ok1 && ok2)
        same = strcasecmp(s1, s2) == 0 && strcasecmp(h1, h2) == 0 && strcmp(p1, p2) == 0;
    if (ok1) {
        curl_free(s1);
        curl_free(h1);
        curl_free(p1);
    }
    if (ok2) {
        curl_free(s2);
        curl_free(h2);
        curl_free(p2);
    }
    return same;
}

void url_origin(const char *url, char *out, size_t outlen)
{
    char *s, *h, *p;
    if (!out || outlen == 0)
        return;
    if (!parse_origin(url, &s, &h, &p)) {
        snprintf(out, outlen, "?");
        return;
    }
    if (snprintf(out, outlen, "%s://%s:%s", s, h, p) >= (int)outlen)
        snprintf(out, outlen, "?");
    curl_free(s);
    curl_free(h);
    curl_free(p);
}

char *url_encode(const char *s)
{
    static const char hx[] = "0123456789ABCDEF";
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 1) / 3)
        return NULL;
    char *o = malloc(n * 3 + 1);
    if (!o)
        return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            o[j++] = (char)c;
        } else {
            o[j++] = '%';
            o[j++] = hx[c >> 4];
            o[j++] = hx[c & 15];
        }
    }
    o[j] = '\0';
    return o;
}
