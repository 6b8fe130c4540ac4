#include "core/config.h"

#include "core/log.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum kind { K_STR, K_LONG, K_BOOL, K_LEVEL, K_DBTYPE };

struct var {
    const char *name;
    enum kind kind;
    size_t off;
    const char *def;
    long min, max;
};

#define S(n, f, d)                                                                                 \
    {                                                                                              \
        n, K_STR, offsetof(struct config, f), d, 0, 0                                              \
    }
#define L(n, f, d, lo, hi)                                                                         \
    {                                                                                              \
        n, K_LONG, offsetof(struct config, f), d, lo, hi                                           \
    }
#define B(n, f, d)                                                                                 \
    {                                                                                              \
        n, K_BOOL, offsetof(struct config, f), d, 0, 0                                             \
    }

static const struct var vars[] = {
    {"LOG_LEVEL", K_LEVEL, offsetof(struct config, log_level), "INFO", 0, 0},
    L("MAX_BODY_BYTES", max_body_bytes, "1048576", 1024, 64L * 1024 * 1024),
    L("WSMS_MAX_REQUESTS", max_requests, "0", 0, LONG_MAX),
    L("WSMS_REQUEST_TIMEOUT_SECONDS", request_timeout_s, "30", 1, 3600),
    L("WSMS_SLOWLOG_SECONDS", slowlog_s, "0", 0, 3600),
    L("RATE_LIMIT_PER_MINUTE", rate_limit_per_minute, "0", 0, 1000000),
    L("RATE_LIMIT_BURST", rate_limit_burst, "0", 0, 1000000),
    S("STATUS_ALLOW", status_allow, "127.0.0.1,::1"),
    S("WSMS_RUN_DIR", run_dir, ""),
    B("WSMS_TEST_HOOKS", test_hooks, "false"),
    S("WSMS_LOG_FILE", log_file, ""),
    S("CORS_ALLOWED_ORIGINS", cors_allowed_origins, ""),
    B("CORS_ALLOW_CREDENTIALS", cors_allow_credentials, "false"),
    L("CORS_MAX_AGE_SECONDS", cors_max_age_s, "600", 0, 86400),
    {"DB_TYPE", K_DBTYPE, offsetof(struct config, db_type), "sqlite", 0, 0},
    S("DB_SERVER", db_server, "localhost"),
    S("DB_NAME", db_name, "pmassist"),
    S("DB_USER", db_user, ""),
    S("DB_PASSWORD", db_password, ""),
    S("DB_DRIVER", db_driver, ""),
    S("DB_DSN", db_dsn, ""),
    S("DB_PATH", db_path, "./data"),
    L("DB_PORT", db_port, "0", 0, 65535),
    L("DB_LOGIN_TIMEOUT_SECONDS", db_login_timeout_s, "5", 1, 300),
    S("AZURE_TENANT_ID", azure_tenant_id, ""),
    S("AZURE_CLIENT_ID", azure_client_id, ""),
    S("AZURE_AUDIENCE", azure_audience, ""),
    S("AZURE_ISSUER", azure_issuer, ""),
    S("AZURE_JWKS_URL", azure_jwks_url, ""),
    L("AZURE_CLOCK_SKEW_SECONDS", azure_clock_skew_s, "60", 0, 3600),
    L("AZURE_JWKS_MIN_REFRESH_SECONDS", azure_jwks_min_refresh_s, "300", 0, 86400),
    B("AZURE_ACCEPT_V1_TOKENS", azure_accept_v1_tokens, "false"),
    S("PMA_TOKEN_SECRET", pma_token_secret, ""),
    L("PMA_TOKEN_EXPIRY_HOURS", pma_token_expiry_hours, "24", 1, 24 * 365),
    L("API_KEY_MAX_DAYS", api_key_max_days, "365", 1, 3650),
    L("INVITATION_EXPIRY_DAYS", invitation_expiry_days, "7", 1, 365),
    S("AZURE_STORAGE_CONNECTION_STRING", azure_storage_connection_string, ""),
    S("AZURE_STORAGE_CONTAINER_NAME", azure_storage_container_name, "pmassist"),
    S("JIRA_BASE_URL", jira_base_url, ""),
    S("JIRA_EMAIL", jira_email, ""),
    S("JIRA_API_TOKEN", jira_api_token, ""),
    S("ADO_ORG_URL", ado_org_url, ""),
    S("ADO_PAT_TOKEN", ado_pat_token, ""),
    S("SNOW_BASE_URL", snow_base_url, ""),
    S("SNOW_API_TOKEN", snow_api_token, ""),
    S("GRAPH_BASE_URL", graph_base_url, "https://graph.microsoft.com"),
    S("SHAREPOINT_ACCESS_TOKEN", sharepoint_access_token, ""),
    L("INTEGRATION_TIMEOUT_SECONDS", integration_timeout_s, "10", 1, 300),
    S("OUTBOUND_PROXY", outbound_proxy, ""),
    L("WSMS_SCHEDULER_CONCURRENCY", scheduler_concurrency, "4", 0, 64),
    L("WSMS_SCHEDULER_TICK_MS", scheduler_tick_ms, "1000", 10, 60000),
    L("WSMS_SCHEDULER_LEASE_SECONDS", scheduler_lease_s, "30", 1, 3600),
    L("WSMS_SCHEDULER_DRAIN_SECONDS", scheduler_drain_s, "30", 0, 3600),
    S("WSMS_TEST_CLOCK_FILE", test_clock_file, ""),
};

#define NVARS (sizeof(vars) / sizeof(vars[0]))

static struct config cfg;
/* every string in cfg points into one of these */
static char *owned[NVARS];
/* values read from the .env file, indexed like vars */
static char *file_vals[NVARS];

const struct config *config_get(void)
{
    return &cfg;
}

const char *config_db_type_name(enum db_type t)
{
    switch (t) {
    case DB_POSTGRES:
        return "postgres";
    case DB_SQLSERVER:
        return "sqlserver";
    default:
        return "sqlite";
    }
}

void config_free(void)
{
    for (size_t i = 0; i < NVARS; i++) {
        free(owned[i]);
        owned[i] = NULL;
        free(file_vals[i]);
        file_vals[i] = NULL;
    }
    memset(&cfg, 0, sizeof(cfg));
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int valid_key(const char *k)
{
    if (!*k || isdigit((unsigned char)*k))
        return 0;
    for (; *k; k++)
        if (!(isalnum((unsigned char)*k) || *k == '_'))
            return 0;
    return 1;
}

int config_parse_env_text(const char *text, size_t len,
                          int (*cb)(const char *key, const char *val, void *ud), void *ud,
                          int *bad_line)
{
    int rc = -1;
    int lineno = 0;
    size_t pos = 0;
    char *line = NULL;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t ll = end - pos;
        lineno++;
        free(line);
        line = malloc(ll + 1);
        if (!line)
            goto out;
        memcpy(line, text + pos, ll);
        line[ll] = '\0';
        pos = end + 1;
        if (strlen(line) != ll)
            goto bad; /* NUL byte inside the line */
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq)
            goto bad;
        *eq = '\0';
        char *key = trim(s);
        char *val = trim(eq + 1);
        if (!valid_key(key))
            goto bad;
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = '\0';
            val++;
        } else if (vl >= 1 && (val[0] == '"' || val[0] == '\'')) {
            goto bad;
        } else {
            /* unquoted: an inline comment starts at " #" */
            char *hash = strstr(val, " #");
            if (hash) {
                *hash = '\0';
                val = trim(val);
            }
        }
        if (cb(key, val, ud) != 0)
            goto bad;
    }
    rc = 0;
    goto out;
bad:
    if (bad_line)
        *bad_line = lineno;
out:
    free(line);
    return rc;
}

static int file_cb(const char *key, const char *val, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < NVARS; i++) {
        if (strcmp(vars[i].name, key) == 0) {
            char *d = strdup(val);
            if (!d)
                return -1;
            free(file_vals[i]);
            file_vals[i] = d;
            return 0;
        }
    }
    return 0; /* unknown keys are ignored (other tools may share the file) */
}

static int read_env_file(const char *path, char *err, size_t errlen)
{
    int rc = -1;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read env file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 20, n;
    buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "out of memory reading %s", path);
        goto out;
    }
    n = fread(buf, 1, cap, f);
    if (n == cap) {
        snprintf(err, errlen, "env file %s is larger than 1 MiB", path);
        goto out;
    }
    int bad = 0;
    if (config_parse_env_text(buf, n, file_cb, NULL, &bad) != 0) {
        snprintf(err, errlen, "env file %s: line %d is not KEY=VALUE", path, bad);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"};
    static const char *no[] = {"0", "false", "no", "off", ""};
    for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
        if (strcasecmp(s, yes[i]) == 0)
            return *out = true, 0;
    for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
        if (strcasecmp(s, no[i]) == 0)
            return *out = false, 0;
    return -1;
}

static int set_var(size_t i, const char *val, char *err, size_t errlen)
{
    const struct var *v = &vars[i];
    char *base = (char *)&cfg;
    switch (v->kind) {
    case K_STR: {
        char *d = strdup(val);
        if (!d) {
            snprintf(err, errlen, "out of memory reading %s", v->name);
            return -1;
        }
        free(owned[i]);
        owned[i] = d;
        *(const char **)(base + v->off) = d;
        return 0;
    }
    case K_LONG: {
        char *end;
        errno = 0;
        long n = strtol(val, &end, 10);
        if (!*val || *end || errno || n < v->min || n > v->max) {
            snprintf(err, errlen, "%s must be a whole number from %ld to %ld", v->name, v->min,
                     v->max);
            return -1;
        }
        *(long *)(base + v->off) = n;
        return 0;
    }
    case K_BOOL:
        if (parse_bool(val, (bool *)(base + v->off)) != 0) {
            snprintf(err, errlen, "%s must be true or false", v->name);
            return -1;
        }
        return 0;
    case K_LEVEL: {
        int l = log_parse_level(val);
        if (l < 0) {
            snprintf(err, errlen, "LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL");
            return -1;
        }
        *(int *)(base + v->off) = l;
        return 0;
    }
    case K_DBTYPE: {
        enum db_type t;
        if (strcasecmp(val, "sqlite") == 0)
            t = DB_SQLITE;
        else if (strcasecmp(val, "postgres") == 0 || strcasecmp(val, "postgresql") == 0)
            t = DB_POSTGRES;
        else if (strcasecmp(val, "sqlserver") == 0 || strcasecmp(val, "mssql") == 0)
            t = DB_SQLSERVER;
        else {
            snprintf(err, errlen, "DB_TYPE must be sqlserver, postgres or sqlite");
            return -1;
        }
        *(enum db_type *)(base + v->off) = t;
        return 0;
    }
    }
    return -1;
}

/* CORS_ALLOWED_ORIGINS: "*" alone, or origins scheme://host[:port] with no
 * path, separated by commas (spaces around them allowed). */
static int check_origins(char *err, size_t errlen)
{
    const char *p = cfg.cors_allowed_origins;
    while (*p == ' ')
        p++;
    if (strcmp(p, "*") == 0) {
        if (cfg.cors_allow_credentials) {
            snprintf(err, errlen,
                     "CORS_ALLOWED_ORIGINS must list origins (not *) when CORS_ALLOW_CREDENTIALS "
                     "is true");
            return -1;
        }
        return 0;
    }
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        while (n && p[n - 1] == ' ')
            n--;
        const char *h = NULL;
        if (n > 8 && strncmp(p, "https://", 8) == 0)
            h = p + 8;
        else if (n > 7 && strncmp(p, "http://", 7) == 0)
            h = p + 7;
        bool ok = h != NULL;
        for (const char *c = h; ok && c < p + n; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
                 *c == ':' || *c == '[' || *c == ']';
        if (!ok) {
            snprintf(err, errlen,
                     "CORS_ALLOWED_ORIGINS must be comma-separated origins like "
                     "https://app.example.com (lowercase, no path) or *");
            return -1;
        }
        p = e ? e + 1 : p + n;
        while (*p == ' ')
            p++;
    }
    return 0;
}

static int check_url(const char *name, const char *v, char *err, size_t errlen)
{
    if (!*v)
        return 0;
    if (strncmp(v, "https://", 8) && strncmp(v, "http://", 7)) {
        snprintf(err, errlen, "%s must start with https:// or http://", name);
        return -1;
    }
    return 0;
}

int config_load(enum config_mode mode, const char *env_file, char *err, size_t errlen)
{
    config_free();
    if (!env_file)
        env_file = getenv("WSMS_ENV_FILE");
    if (!env_file || !*env_file)
        env_file = ".env";
    if (read_env_file(env_file, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < NVARS; i++) {
        const char *val = getenv(vars[i].name);
        if (!val)
            val = file_vals[i];
        if (!val)
            val = vars[i].def;
        if (set_var(i, val, err, errlen) != 0)
            return -1;
    }
    if (cfg.db_port == 0)
        cfg.db_port = cfg.db_type == DB_POSTGRES ? 5432 : 1433;
    if (cfg.db_type != DB_SQLITE && !*cfg.db_dsn && !*cfg.db_server) {
        snprintf(err, errlen, "DB_SERVER must be set when DB_TYPE is %s",
                 config_db_type_name(cfg.db_type));
        return -1;
    }
    if (!*cfg.azure_audience)
        cfg.azure_audience = cfg.azure_client_id;
    static const char *urls[] = {"JIRA_BASE_URL", "ADO_ORG_URL", "SNOW_BASE_URL", "GRAPH_BASE_URL"};
    const char *url_vals[] = {cfg.jira_base_url, cfg.ado_org_url, cfg.snow_base_url,
                              cfg.graph_base_url};
    for (size_t i = 0; i < 4; i++)
        if (check_url(urls[i], url_vals[i], err, errlen) != 0)
            return -1;
    if (check_origins(err, errlen) != 0)
        return -1;
    if (mode == CONFIG_SERVE) {
        if (strlen(cfg.pma_token_secret) < 32) {
            snprintf(err, errlen, "PMA_TOKEN_SECRET must be set and at least 32 bytes long");
            return -1;
        }
        if (!*cfg.azure_tenant_id) {
            snprintf(err, errlen, "AZURE_TENANT_ID must be set");
            return -1;
        }
        if (!*cfg.azure_audience) {
            snprintf(err, errlen, "AZURE_AUDIENCE (or AZURE_CLIENT_ID) must be set");
            return -1;
        }
    }
    log_set_level(cfg.log_level);
    return 0;
}
