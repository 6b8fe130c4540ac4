/* Test client for the integration tests: HTTP through the real nginx of the
 * running stack ($WSMS_URL) with libcurl, plus test users whose Entra tokens
 * are signed with the stack's test key ($WSMS_TEST_KEY, a PEM private key
 * whose public half is in the JWKS the workers load) and whose PMA tokens
 * come from POST /auth/validate. */
#ifndef WSMS_T_CLIENT_H
#define WSMS_T_CLIENT_H

#include <cjson/cJSON.h>

struct tresp {
    long status;
    char *body;
    cJSON *json; /* parsed body or NULL */
    char *headers;
    char *hdr_copy; /* last tc_header result */
};

/* Request to $WSMS_URL + path. headers: NULL-terminated "Name: value"
 * list or NULL; body may be NULL. Returns 0, or -1 when no HTTP answer. */
int tc_request(struct tresp *r, const char *method, const char *path, const char *body,
               const char *const *headers);
const char *tc_header(struct tresp *r, const char *name);
void tc_free(struct tresp *r);

struct tc_user {
    char oid[64];
    char email[160];
    char name[64];
    char *azure;
    char *pma;
};

/* Entra token for arbitrary claims overrides (JSON object text merged into
 * the standard valid claims; NULL for none). malloc'd. */
char *tc_entra_token(const char *oid, const char *email, const char *name, const char *claims_json);
/* A new random user with a signed Entra token and a PMA token from
 * /auth/validate. email_prefix may be a full address (contains '@'). */
int tc_user_new(struct tc_user *u, const char *email_prefix);
int tc_user_refresh_pma(struct tc_user *u);
/* Request as this user: Authorization, X-PMA-Token and, with a body,
 * Content-Type: application/json. */
int tc_as(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
          const char *body);
void tc_user_free(struct tc_user *u);
/* X-DB-Statements of the response, -1 when absent. */
long tc_db_statements(struct tresp *r);
/* "sqlite", "postgres" or "sqlserver" ($WSMS_DB_TYPE). */
const char *tc_db_type(void);
/* error_code of a JSON error body, or "" */
const char *tc_error_code(const struct tresp *r);

/* Assertions shared by the integration tests: status (and error_code when
 * code is not NULL), reported with the caller's line and the body. */
void tc_expect_at(int line, const struct tresp *r, long status, const char *code);
#define EXPECT(r, st, code) tc_expect_at(__LINE__, (r), (st), (code))
/* String member of o, or NULL. */
const char *tc_jstr(const cJSON *o, const char *k);
/* tc_user_new that fails the test when it cannot. */
void tc_new_user(struct tc_user *u, const char *prefix);
/* Request as u with Content-Type: application/json and one extra header
 * (may be NULL). */
int tc_as_hdr(struct tresp *r, const struct tc_user *u, const char *method, const char *path,
              const char *body, const char *extra);

#endif

/* A stack of its own for tests that restart, kill or reconfigure workers:
 * $WSMS_TMP/own-<name>, the run's common settings plus extra_env lines
 * ("KEY=VALUE\n..."), the same database as the shared stack, `workers`
 * workers. Writes the URL into url. 0 or -1. */
int tc_stack_start(const char *name, const char *extra_env, int workers, char *url, size_t n);
void tc_stack_stop(const char *name);
/* Directory of a stack of its own. */
const char *tc_stack_dir(const char *name, char *buf, size_t n);
/* pid of that stack's supervisor, or -1. */
int tc_stack_pid(const char *name);
/* Children pids of a process (its workers); returns the count. */
int tc_children(int pid, int *out, int max);

/* Like tc_stack_start, but with STACK_SOCKETS=nsockets: nsockets spawn-fcgi
 * instances each running `wsmsd --workers 1` on its own Unix socket, all
 * in nginx's upstream (production's one socket per worker). 0 or -1. */
int tc_stack_start_sockets(const char *name, const char *extra_env, int nsockets, char *url,
                           size_t n);
/* Every supervisor pid of a stack of its own (one per line of its
 * wsmsd.pid; "" names the shared stack); returns the count (0 when none). */
int tc_stack_pids(const char *name, int *out, int max);
