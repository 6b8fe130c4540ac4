/* config: every setting, read once at start from the environment and an
 * optional .env file (the environment wins). The module owns the struct and
 * every string in it for the life of the process; others read it through
 * config_get(). docs/configuration.md lists every variable. */
#ifndef WSMS_CONFIG_H
#define WSMS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum db_type { DB_SQLITE = 0, DB_POSTGRES = 1, DB_SQLSERVER = 2 };

struct config {
    /* service */
    int log_level;
    long max_body_bytes;
    long max_requests;          /* WSMS_MAX_REQUESTS, 0 = never recycle */
    long request_timeout_s;     /* WSMS_REQUEST_TIMEOUT_SECONDS */
    long slowlog_s;             /* WSMS_SLOWLOG_SECONDS, 0 = off */
    long rate_limit_per_minute; /* RATE_LIMIT_PER_MINUTE per identity, 0 = off */
    long rate_limit_burst;      /* RATE_LIMIT_BURST, 0 = RATE_LIMIT_PER_MINUTE */
    const char *status_allow;   /* STATUS_ALLOW: comma separated client addresses */
    const char *run_dir;        /* WSMS_RUN_DIR: shared worker state (metrics, status) */
    bool test_hooks;            /* WSMS_TEST_HOOKS: enable fault-injection points */
    const char *log_file;       /* WSMS_LOG_FILE: append logs here instead of stderr */
    /* CORS_ALLOWED_ORIGINS: comma-separated exact origins ("" = CORS off,
     * "*" = any origin, refused with credentials); CORS_ALLOW_CREDENTIALS;
     * CORS_MAX_AGE_SECONDS (preflight cache) */
    const char *cors_allowed_origins;
    bool cors_allow_credentials;
    long cors_max_age_s;
    /* database */
    enum db_type db_type;
    const char *db_server, *db_name, *db_user, *db_password, *db_driver, *db_dsn, *db_path;
    long db_port;
    long db_login_timeout_s;
    /* Entra ID */
    const char *azure_tenant_id, *azure_client_id, *azure_audience, *azure_issuer;
    const char *azure_jwks_url;
    long azure_clock_skew_s;
    long azure_jwks_min_refresh_s;
    bool azure_accept_v1_tokens;
    /* PMA token */
    const char *pma_token_secret;
    long pma_token_expiry_hours;
    long api_key_max_days;       /* API_KEY_MAX_DAYS: longest API key lifetime */
    long invitation_expiry_days; /* INVITATION_EXPIRY_DAYS: invitation lifetime */
    /* blob storage */
    const char *azure_storage_connection_string;
    const char *azure_storage_container_name;
    /* integrations */
    const char *jira_base_url, *jira_email, *jira_api_token;
    const char *ado_org_url, *ado_pat_token;
    const char *snow_base_url, *snow_api_token;
    const char *graph_base_url, *sharepoint_access_token;
    long integration_timeout_s;
    const char *outbound_proxy; /* OUTBOUND_PROXY: "" = direct */
    /* wsmsd scheduler: executor processes (0 = fire only), tick, lease of
     * a RUNNING run, how long SIGTERM waits for running runs */
    long scheduler_concurrency, scheduler_tick_ms, scheduler_lease_s, scheduler_drain_s;
    /* WSMS_TEST_CLOCK_FILE (with WSMS_TEST_HOOKS): seconds the scheduler's
     * clock runs ahead, read at each use */
    const char *test_clock_file;
};

enum config_mode {
    CONFIG_SERVE,  /* the service: needs the auth settings */
    CONFIG_MIGRATE /* wsmsd migrate: database settings only */
};

/* Loads the environment plus `env_file` (NULL: $WSMS_ENV_FILE or ./.env,
 * silently skipped when absent). On error returns -1 and writes one line
 * naming the variable into err. */
int config_load(enum config_mode mode, const char *env_file, char *err, size_t errlen);
const struct config *config_get(void);
void config_free(void);
const char *config_db_type_name(enum db_type t);

/* .env parser, exposed for tests and fuzzing: calls cb for each KEY=VALUE
 * line. Returns 0, or -1 with the 1-based bad line number in *bad_line. */
int config_parse_env_text(const char *text, size_t len,
                          int (*cb)(const char *key, const char *val, void *ud), void *ud,
                          int *bad_line);

#endif
