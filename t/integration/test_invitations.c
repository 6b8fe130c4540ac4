/* Workspace invitations through nginx -> spawn-fcgi -> wsmsd on every
 * database: create -> list -> accepted by signing in (a second user's Entra
 * token with the invited email, in another case) -> the member exists with
 * the role; explicit accept and decline; another email is 403
 * INVITATION_EMAIL_MISMATCH; expiry with the clock moved by the test hook,
 * then a resend makes it acceptable again; revoked and used invitations are
 * refused; an existing member keeps a higher role and gets a higher invited
 * one; ADMIN cannot invite an OWNER, a MEMBER cannot invite; /me/invitations
 * lists only the caller's pending ones; one pending invitation per email;
 * audit entries for every step; validation errors. */
#include "client.h"
#include "core/util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#define DAYS8 "X-Test-Clock-Offset: 691200"

static void create_ws(const struct tc_user *u, char id[64])
{
    struct tresp r;
    ck_assert_int_eq(tc_as(&r, u, "POST", "/workspaces", "{\"name\":\"invitations\"}"), 0);
    EXPECT(&r, 201, NULL);
    snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
}

/* A random address "<prefix>-<hex>@example.com". */
static void new_email(const char *prefix, char out[160])
{
    char g[GUID_LEN + 1];
    ck_assert_int_eq(guid_new(g), 0);
    snprintf(out, 160, "%s-%.8s@example.com", prefix, g);
}

/* POST /workspaces/{ws}/invitations as u; the answer's status must be st;
 * the new invitation's id into id (when 201). */
static void invite(const struct tc_user *u, const char *ws, const char *email, const char *role,
                   long st, const char *code, char id[64])
{
    char path[160], body[512];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"role\":\"%s\",\"message\":\"Join us\\nplease\"}", email, role);
    ck_assert_int_eq(tc_as(&r, u, "POST", path, body), 0);
    EXPECT(&r, st, code);
    if (st == 201) {
        ck_assert_str_eq(tc_jstr(r.json, "status"), "pending");
        ck_assert_str_eq(tc_jstr(r.json, "role"), role);
        ck_assert_str_eq(tc_jstr(r.json, "workspace_id"), ws);
        ck_assert_str_eq(tc_jstr(r.json, "message"), "Join us\nplease");
        ck_assert_ptr_nonnull(tc_jstr(r.json, "expires_at"));
        if (id)
            snprintf(id, 64, "%s", tc_jstr(r.json, "id"));
    }
    tc_free(&r);
}

/* A new user (fresh oid) with email signing in through /auth/validate with
 * an optional extra header; the answer stays in r (200 asserted). */
static void sign_in(struct tc_user *u, const char *email, const char *extra, struct tresp *r)
{
    char g[GUID_LEN + 1], authz[8192];
    const char *h[3] = {authz, extra, NULL};
    memset(u, 0, sizeof(*u));
    ck_assert_int_eq(guid_new(g), 0);
    snprintf(u->oid, sizeof(u->oid), "%s", g);
    snprintf(u->email, sizeof(u->email), "%s", email);
    snprintf(u->name, sizeof(u->name), "Invitee %.8s", g);
    u->azure = tc_entra_token(u->oid, u->email, u->name, NULL);
    ck_assert_ptr_nonnull(u->azure);
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure);
    ck_assert_int_eq(tc_request(r, "POST", "/auth/validate", NULL, h), 0);
    EXPECT(r, 200, NULL);
    const char *pma = tc_jstr(r->json, "pma_token");
    ck_assert_ptr_nonnull(pma);
    u->pma = strdup(pma);
    ck_assert_ptr_nonnull(u->pma);
}

static int accepted_count(const struct tresp *r)
{
    cJSON *a = cJSON_GetObjectItem(r->json, "accepted_invitations");
    ck_assert_msg(cJSON_IsArray(a), "no accepted_invitations: %s", r->body);
    return cJSON_GetArraySize(a);
}

/* Request as u with an optional extra header; asserts status and code. */
static void call(const struct tc_user *u, const char *method, const char *path, const char *body,
                 const char *extra, long st, const char *code, struct tresp *keep)
{
    struct tresp r;
    if (extra)
        ck_assert_int_eq(tc_as_hdr(&r, u, method, path, body, extra), 0);
    else
        ck_assert_int_eq(tc_as(&r, u, method, path, body), 0);
    EXPECT(&r, st, code);
    if (keep)
        *keep = r;
    else
        tc_free(&r);
}

static void respond(const struct tc_user *u, const char *inv, const char *what, const char *extra,
                    long st, const char *code)
{
    char path[160];
    snprintf(path, sizeof(path), "/invitations/%s/%s", inv, what);
    call(u, "POST", path, NULL, extra, st, code, NULL);
}

/* Number of invitations in GET /workspaces/{ws}/invitations?<query>, which
 * must equal X-Total-Count when the page holds them all. */
static int list_count(const struct tc_user *u, const char *ws, const char *query, const char *extra)
{
    char path[256];
    struct tresp r;
    snprintf(path, sizeof(path), "/workspaces/%s/invitations%s%s", ws, *query ? "?" : "", query);
    call(u, "GET", path, NULL, extra, 200, NULL, &r);
    ck_assert(cJSON_IsArray(r.json));
    int n = cJSON_GetArraySize(r.json);
    const char *total = tc_header(&r, "X-Total-Count");
    ck_assert_ptr_nonnull(total);
    if (!strstr(query, "limit"))
        ck_assert_int_eq(atoi(total), n);
    tc_free(&r);
    return n;
}

/* Role of email among the members of ws ("" when not a member). */
static void member_role(const struct tc_user *u, const char *ws, const char *email, char out[16])
{
    char path[160];
    struct tresp r;
    cJSON *m;
    snprintf(path, sizeof(path), "/workspaces/%s/members?limit=200", ws);
    call(u, "GET", path, NULL, NULL, 200, NULL, &r);
    out[0] = '\0';
    cJSON_ArrayForEach(m, r.json)
    {
        if (strcasecmp(tc_jstr(m, "user_email"), email) == 0)
            snprintf(out, 16, "%s", tc_jstr(m, "role"));
    }
    tc_free(&r);
}

/* Audit entries action of ws naming invitation inv. */
static int audit_count(const struct tc_user *owner, const char *ws, const char *action,
                       const char *inv)
{
    char path[256];
    struct tresp r;
    cJSON *e;
    int n = 0;
    snprintf(path, sizeof(path), "/workspaces/%s/audit?action=%s&limit=200", ws, action);
    call(owner, "GET", path, NULL, NULL, 200, NULL, &r);
    cJSON *entries = cJSON_IsArray(r.json) ? r.json : cJSON_GetObjectItem(r.json, "items");
    cJSON_ArrayForEach(e, entries)
    {
        const char *id = tc_jstr(cJSON_GetObjectItem(e, "details"), "invitation_id");
        n += id && strcmp(id, inv) == 0;
    }
    tc_free(&r);
    return n;
}

START_TEST(lifecycle_by_sign_in)
{
    struct tc_user o, x;
    char ws[64], email[160], upper[160], inv[64], role[16], path[224];
    struct tresp r;
    tc_new_user(&o, "inv-owner");
    create_ws(&o, ws);
    new_email("Invitee", email);
    invite(&o, ws, email, "MEMBER", 201, NULL, inv);
    /* a second pending invitation for the same person (any case) */
    for (size_t i = 0; i <= strlen(email); i++)
        upper[i] = (char)(email[i] >= 'a' && email[i] <= 'z' ? email[i] - 32 : email[i]);
    invite(&o, ws, upper, "VIEWER", 409, "CONFLICT", NULL);
    ck_assert_int_eq(list_count(&o, ws, "", NULL), 1);
    ck_assert_int_eq(list_count(&o, ws, "status=pending", NULL), 1);
    ck_assert_int_eq(list_count(&o, ws, "status=accepted", NULL), 0);

    /* signing in with the invited email (another case) accepts it */
    sign_in(&x, upper, NULL, &r);
    ck_assert_int_eq(accepted_count(&r), 1);
    cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(r.json, "accepted_invitations"), 0);
    ck_assert_str_eq(tc_jstr(a, "id"), inv);
    ck_assert_str_eq(tc_jstr(a, "workspace_id"), ws);
    ck_assert_str_eq(tc_jstr(a, "membership"), "created");
    ck_assert_str_eq(tc_jstr(cJSON_GetObjectItem(r.json, "roles"), ws), "MEMBER");
    tc_free(&r);
    member_role(&o, ws, email, role);
    ck_assert_str_eq(role, "MEMBER");
    /* the new token works on the workspace */
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    call(&x, "GET", path, NULL, NULL, 200, NULL, NULL);
    ck_assert_int_eq(list_count(&o, ws, "status=accepted", NULL), 1);
    ck_assert_int_eq(list_count(&o, ws, "status=pending", NULL), 0);

    /* used: a second sign-in accepts nothing, an explicit accept is refused */
    ck_assert_int_eq(tc_user_refresh_pma(&x), 0);
    tc_user_free(&x);
    sign_in(&x, email, NULL, &r);
    ck_assert_int_eq(accepted_count(&r), 0);
    tc_free(&r);
    respond(&x, inv, "accept", NULL, 409, "INVITATION_ALREADY_USED");
    respond(&x, inv, "decline", NULL, 409, "INVITATION_ALREADY_USED");
    /* already a member now: a new invitation is refused */
    invite(&o, ws, email, "ADMIN", 409, "CONFLICT", NULL);

    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_CREATED", inv), 1);
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_ACCEPTED", inv), 1);
    tc_user_free(&o);
    tc_user_free(&x);
}
END_TEST

START_TEST(explicit_accept_decline_and_mine)
{
    struct tc_user o, a, b, c, d;
    char ws[64], ws2[64], ia[64], ib[64], ic[64], id[64], other[64], role[16], path[224];
    struct tresp r;
    tc_new_user(&o, "inv-owner2");
    tc_new_user(&a, "inv-a");
    tc_new_user(&b, "inv-b");
    tc_new_user(&c, "inv-c");
    tc_new_user(&d, "inv-d");
    create_ws(&o, ws);
    create_ws(&o, ws2);
    invite(&o, ws, a.email, "VIEWER", 201, NULL, ia);
    invite(&o, ws2, a.email, "MEMBER", 201, NULL, other);
    invite(&o, ws, b.email, "MEMBER", 201, NULL, ib);

    /* /me/invitations: only the caller's pending ones */
    call(&a, "GET", "/me/invitations", NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    cJSON *it;
    cJSON_ArrayForEach(it, r.json)
    {
        ck_assert_str_eq(tc_jstr(it, "email"), a.email);
        ck_assert_str_eq(tc_jstr(it, "workspace_name"), "invitations");
    }
    tc_free(&r);
    call(&a, "GET", "/me/invitations?limit=1", NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_header(&r, "X-Total-Count"), "2");
    tc_free(&r);

    /* another person's invitation: 403 whatever it is */
    respond(&b, ia, "accept", NULL, 403, "INVITATION_EMAIL_MISMATCH");
    respond(&b, ia, "decline", NULL, 403, "INVITATION_EMAIL_MISMATCH");
    respond(&b, "00000000-0000-4000-8000-000000000000", "accept", NULL, 404,
            "INVITATION_NOT_FOUND");
    respond(&b, "not-a-guid", "accept", NULL, 404, "INVITATION_NOT_FOUND");

    /* explicit accept: the membership, a fresh token with the role */
    snprintf(path, sizeof(path), "/invitations/%s/accept", ia);
    call(&a, "POST", path, NULL, NULL, 200, NULL, &r);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "accepted");
    ck_assert_str_eq(tc_jstr(r.json, "membership"), "created");
    ck_assert_ptr_nonnull(tc_jstr(r.json, "member_id"));
    ck_assert_ptr_nonnull(tc_jstr(r.json, "pma_token"));
    free(a.pma);
    a.pma = strdup(tc_jstr(r.json, "pma_token"));
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    call(&a, "GET", path, NULL, NULL, 200, NULL, NULL);
    member_role(&o, ws, a.email, role);
    ck_assert_str_eq(role, "VIEWER");
    call(&a, "GET", "/me/invitations", NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    ck_assert_str_eq(tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"), other);
    tc_free(&r);

    /* decline */
    respond(&b, ib, "decline", NULL, 200, NULL);
    respond(&b, ib, "accept", NULL, 409, "INVITATION_ALREADY_USED");
    respond(&b, ib, "decline", NULL, 409, "INVITATION_ALREADY_USED");
    member_role(&o, ws, b.email, role);
    ck_assert_str_eq(role, "");
    call(&b, "GET", "/me/invitations", NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    tc_free(&r);
    ck_assert_int_eq(list_count(&o, ws, "status=declined", NULL), 1);

    /* a member already: a higher role is kept, a lower one raised */
    invite(&o, ws, c.email, "VIEWER", 201, NULL, ic);
    invite(&o, ws, d.email, "ADMIN", 201, NULL, id);
    char body[256];
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"ADMIN\"}", c.email);
    call(&o, "POST", path, body, NULL, 201, NULL, NULL);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"VIEWER\"}", d.email);
    call(&o, "POST", path, body, NULL, 201, NULL, NULL);
    snprintf(path, sizeof(path), "/invitations/%s/accept", ic);
    call(&c, "POST", path, NULL, NULL, 200, NULL, &r);
    ck_assert_str_eq(tc_jstr(r.json, "membership"), "unchanged");
    tc_free(&r);
    snprintf(path, sizeof(path), "/invitations/%s/accept", id);
    call(&d, "POST", path, NULL, NULL, 200, NULL, &r);
    ck_assert_str_eq(tc_jstr(r.json, "membership"), "role_raised");
    tc_free(&r);
    member_role(&o, ws, c.email, role);
    ck_assert_str_eq(role, "ADMIN");
    member_role(&o, ws, d.email, role);
    ck_assert_str_eq(role, "ADMIN");

    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_ACCEPTED", ia), 1);
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_DECLINED", ib), 1);
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_ACCEPTED", id), 1);
    tc_user_free(&o);
    tc_user_free(&a);
    tc_user_free(&b);
    tc_user_free(&c);
    tc_user_free(&d);
}
END_TEST

START_TEST(expiry_resend_revoke)
{
    struct tc_user o, e, g, h;
    char ws[64], ee[160], ge[160], he[160], ie[64], ig[64], ih[64], inew[64], role[16];
    char path[224];
    struct tresp r;
    tc_new_user(&o, "inv-owner3");
    create_ws(&o, ws);
    tc_new_user(&e, "inv-e");
    snprintf(ee, sizeof(ee), "%s", e.email);
    invite(&o, ws, ee, "MEMBER", 201, NULL, ie);

    /* eight days later it has expired: refused, listed as expired */
    respond(&e, ie, "accept", DAYS8, 410, "INVITATION_EXPIRED");
    respond(&e, ie, "decline", DAYS8, 410, "INVITATION_EXPIRED");
    ck_assert_int_eq(list_count(&o, ws, "status=expired", DAYS8), 1);
    ck_assert_int_eq(list_count(&o, ws, "status=pending", DAYS8), 0);
    ck_assert_int_eq(list_count(&o, ws, "status=pending", NULL), 1);
    call(&e, "GET", "/me/invitations", NULL, DAYS8, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 0);
    tc_free(&r);

    /* resent then: a new expiry, acceptable again */
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s/resend", ws, ie);
    call(&o, "POST", path, NULL, DAYS8, 200, NULL, &r);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "pending");
    ck_assert_int_eq(cJSON_GetObjectItem(r.json, "resend_count")->valueint, 1);
    ck_assert_ptr_nonnull(tc_jstr(r.json, "resent_at"));
    tc_free(&r);
    respond(&e, ie, "accept", DAYS8, 200, NULL);
    member_role(&o, ws, ee, role);
    ck_assert_str_eq(role, "MEMBER");
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_RESENT", ie), 1);
    /* a used one cannot be resent or revoked */
    call(&o, "POST", path, NULL, NULL, 409, "INVITATION_ALREADY_USED", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s", ws, ie);
    call(&o, "DELETE", path, NULL, NULL, 409, "INVITATION_ALREADY_USED", NULL);

    /* signing in after expiry accepts nothing; a new invitation replaces
     * the expired one, which then cannot be resent while the new is pending */
    new_email("inv-h", he);
    invite(&o, ws, he, "VIEWER", 201, NULL, ih);
    sign_in(&h, he, DAYS8, &r);
    ck_assert_int_eq(accepted_count(&r), 0);
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    char body[256];
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"role\":\"MEMBER\"}", he);
    call(&o, "POST", path, body, DAYS8, 201, NULL, &r);
    snprintf(inew, sizeof(inew), "%s", tc_jstr(r.json, "id"));
    tc_free(&r);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s/resend", ws, ih);
    call(&o, "POST", path, NULL, DAYS8, 409, "CONFLICT", NULL);
    respond(&h, ih, "accept", DAYS8, 410, "INVITATION_EXPIRED");
    respond(&h, inew, "accept", DAYS8, 200, NULL);
    member_role(&o, ws, he, role);
    ck_assert_str_eq(role, "MEMBER");

    /* revoked: refused everywhere, also at sign-in */
    new_email("inv-g", ge);
    invite(&o, ws, ge, "ADMIN", 201, NULL, ig);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s", ws, ig);
    call(&o, "DELETE", path, NULL, NULL, 200, NULL, &r);
    ck_assert_str_eq(tc_jstr(r.json, "status"), "revoked");
    tc_free(&r);
    call(&o, "DELETE", path, NULL, NULL, 409, "INVITATION_REVOKED", NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s/resend", ws, ig);
    call(&o, "POST", path, NULL, NULL, 409, "INVITATION_REVOKED", NULL);
    sign_in(&g, ge, NULL, &r);
    ck_assert_int_eq(accepted_count(&r), 0);
    tc_free(&r);
    respond(&g, ig, "accept", NULL, 409, "INVITATION_REVOKED");
    member_role(&o, ws, ge, role);
    ck_assert_str_eq(role, "");
    ck_assert_int_eq(list_count(&o, ws, "status=revoked", NULL), 1);
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_REVOKED", ig), 1);
    /* another workspace's id through this one */
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s",
             "00000000-0000-4000-8000-000000000001", ig);
    call(&o, "DELETE", path, NULL, NULL, 404, NULL, NULL);
    tc_user_free(&o);
    tc_user_free(&e);
    tc_user_free(&g);
    tc_user_free(&h);
}
END_TEST

START_TEST(permissions_and_validation)
{
    struct tc_user o, ad, m;
    char ws[64], path[224], body[256], e1[160], e2[160], e3[160], iown[64];
    tc_new_user(&o, "inv-owner4");
    tc_new_user(&ad, "inv-admin");
    tc_new_user(&m, "inv-member");
    create_ws(&o, ws);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"ADMIN\"}", ad.email);
    call(&o, "POST", path, body, NULL, 201, NULL, NULL);
    snprintf(body, sizeof(body), "{\"user_email\":\"%s\",\"role\":\"MEMBER\"}", m.email);
    call(&o, "POST", path, body, NULL, 201, NULL, NULL);
    new_email("inv-p1", e1);
    new_email("inv-p2", e2);
    new_email("inv-p3", e3);

    invite(&ad, ws, e1, "OWNER", 403, "INSUFFICIENT_PERMISSIONS", NULL);
    invite(&ad, ws, e1, "ADMIN", 201, NULL, NULL);
    invite(&m, ws, e2, "VIEWER", 403, "INSUFFICIENT_PERMISSIONS", NULL);
    invite(&o, ws, e3, "OWNER", 201, NULL, iown);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    call(&m, "GET", path, NULL, NULL, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    /* an ADMIN may not renew an OWNER invitation, but may revoke it */
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s/resend", ws, iown);
    call(&ad, "POST", path, NULL, NULL, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    call(&o, "POST", path, NULL, NULL, 200, NULL, NULL);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations/%s", ws, iown);
    call(&m, "DELETE", path, NULL, NULL, 403, "INSUFFICIENT_PERMISSIONS", NULL);
    call(&ad, "DELETE", path, NULL, NULL, 200, NULL, NULL);

    /* pagination */
    ck_assert_int_eq(list_count(&o, ws, "limit=1", NULL), 1);
    ck_assert_int_eq(list_count(&o, ws, "", NULL), 2);

    /* validation */
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    static const struct {
        const char *body, *code;
    } bad[] = {
        {"{\"email\":\"not-an-email\",\"role\":\"MEMBER\"}", "VALIDATION_ERROR"},
        {"{\"role\":\"MEMBER\"}", "VALIDATION_ERROR"},
        {"{\"email\":42,\"role\":\"MEMBER\"}", "VALIDATION_ERROR"},
        {"{\"email\":\"v@example.com\",\"role\":\"KING\"}", "INVALID_ROLE"},
        {"{\"email\":\"v@example.com\"}", "VALIDATION_ERROR"},
        {"{\"email\":\"v@example.com\",\"role\":\"MEMBER\",\"message\":7}", "VALIDATION_ERROR"},
        {"{\"email\":\"v@example.com\",\"role\":\"MEMBER\",\"message\":\"a\\u0001b\"}",
         "VALIDATION_ERROR"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        call(&o, "POST", path, bad[i].body, NULL, 422, bad[i].code, NULL);
    char *longmsg = malloc(1100 + 128);
    ck_assert_ptr_nonnull(longmsg);
    int n =
        snprintf(longmsg, 128, "{\"email\":\"v@example.com\",\"role\":\"MEMBER\",\"message\":\"");
    memset(longmsg + n, 'x', 1001);
    snprintf(longmsg + n + 1001, 8, "\"}");
    call(&o, "POST", path, longmsg, NULL, 422, "VALIDATION_ERROR", NULL);
    free(longmsg);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations?status=bogus", ws);
    call(&o, "GET", path, NULL, NULL, 422, "VALIDATION_ERROR", NULL);
    /* no ADMIN answer leaks: a non-member gets the workspace's refusal */
    struct tc_user s;
    tc_new_user(&s, "inv-stranger");
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    call(&s, "GET", path, NULL, NULL, 403, "USER_NOT_AUTHORIZED", NULL);
    tc_user_free(&s);
    tc_user_free(&o);
    tc_user_free(&ad);
    tc_user_free(&m);
}
END_TEST

/* Statements of the cheapest of several sign-ins of u (a worker's first
 * connection does not count). */
static long sign_in_statements(const struct tc_user *u)
{
    char authz[8192];
    const char *h[2] = {authz, NULL};
    long best = -1;
    snprintf(authz, sizeof(authz), "Authorization: Bearer %s", u->azure);
    for (int i = 0; i < 8; i++) {
        struct tresp r;
        ck_assert_int_eq(tc_request(&r, "POST", "/auth/validate", NULL, h), 0);
        EXPECT(&r, 200, NULL);
        long n = tc_db_statements(&r);
        ck_assert_msg(n > 0, "no X-DB-Statements header");
        if (best < 0 || n < best)
            best = n;
        tc_free(&r);
    }
    return best;
}

/* The hot path: a sign-in without invitations makes one statement more
 * than before invitations (bind by email, roles, pending invitations). */
START_TEST(sign_in_round_trips)
{
    struct tc_user o, x;
    char ws[64], inv[64], path[160];
    struct tresp r;
    tc_new_user(&o, "inv-owner5");
    create_ws(&o, ws);
    long plain = sign_in_statements(&o);
    fprintf(stderr, "%s: sign-in without invitations: %ld statements\n", tc_db_type(), plain);
    ck_assert_msg(plain <= 3, "sign-in made %ld statements", plain);
    /* with one pending invitation: the acceptance transaction, once */
    char email[160];
    new_email("inv-rt", email);
    invite(&o, ws, email, "VIEWER", 201, NULL, inv);
    sign_in(&x, email, NULL, &r);
    long with = tc_db_statements(&r);
    ck_assert_int_eq(accepted_count(&r), 1);
    tc_free(&r);
    fprintf(stderr, "%s: sign-in accepting one invitation: %ld statements\n", tc_db_type(), with);
    snprintf(path, sizeof(path), "/workspaces/%s", ws);
    call(&x, "GET", path, NULL, NULL, 200, NULL, NULL);
    tc_user_free(&o);
    tc_user_free(&x);
}
END_TEST

/* n children at once each run one request (as u, body may be NULL); the
 * statuses into st. */
static void race(const struct tc_user *u, const char *method, const char *path, const char *body,
                 int n, long *st)
{
    pid_t pids[16];
    ck_assert(n <= 16);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        ck_assert(pids[i] >= 0);
        if (pids[i] == 0) {
            struct tresp r;
            int rc = tc_as(&r, u, method, path, body);
            int code =
                rc != 0                                                                        ? 9
                : r.status == 200 || r.status == 201                                           ? 0
                : r.status == 409 && strcmp(tc_error_code(&r), "CONFLICT") == 0                ? 1
                : r.status == 409 && strcmp(tc_error_code(&r), "INVITATION_ALREADY_USED") == 0 ? 2
                                                                                               : 8;
            _exit(code);
        }
    }
    for (int i = 0; i < n; i++) {
        int ws = 0;
        ck_assert_int_eq(waitpid(pids[i], &ws, 0), pids[i]);
        ck_assert(WIFEXITED(ws));
        st[i] = WEXITSTATUS(ws);
    }
}

/* Concurrency from the unique index and conditional updates: of creations
 * at once for one email exactly one is 201 (the rest 409 CONFLICT), of
 * accepts at once exactly one is 200 (the rest INVITATION_ALREADY_USED)
 * and the membership exists once. */
START_TEST(concurrent_create_and_accept)
{
    struct tc_user o, x;
    char ws[64], path[224], body[256], inv[64] = "";
    long st[6];
    int ok = 0, other = 0;
    struct tresp r;
    tc_new_user(&o, "inv-owner6");
    tc_new_user(&x, "inv-race");
    create_ws(&o, ws);
    snprintf(path, sizeof(path), "/workspaces/%s/invitations", ws);
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"role\":\"MEMBER\"}", x.email);
    race(&o, "POST", path, body, 6, st);
    for (int i = 0; i < 6; i++) {
        ok += st[i] == 0;
        other += st[i] != 0 && st[i] != 1;
    }
    ck_assert_msg(ok == 1 && other == 0, "creations: %d created, %d unexpected", ok, other);
    call(&o, "GET", path, NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 1);
    snprintf(inv, sizeof(inv), "%s", tc_jstr(cJSON_GetArrayItem(r.json, 0), "id"));
    tc_free(&r);

    snprintf(path, sizeof(path), "/invitations/%s/accept", inv);
    race(&x, "POST", path, NULL, 6, st);
    ok = other = 0;
    for (int i = 0; i < 6; i++) {
        ok += st[i] == 0;
        other += st[i] != 0 && st[i] != 2;
    }
    ck_assert_msg(ok == 1 && other == 0, "accepts: %d accepted, %d unexpected", ok, other);
    snprintf(path, sizeof(path), "/workspaces/%s/members", ws);
    call(&o, "GET", path, NULL, NULL, 200, NULL, &r);
    ck_assert_int_eq(cJSON_GetArraySize(r.json), 2);
    tc_free(&r);
    ck_assert_int_eq(audit_count(&o, ws, "INVITATION_ACCEPTED", inv), 1);
    tc_user_free(&o);
    tc_user_free(&x);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("invitations");
    TCase *tc = tcase_create("invitations");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, lifecycle_by_sign_in);
    tcase_add_test(tc, explicit_accept_decline_and_mine);
    tcase_add_test(tc, expiry_resend_revoke);
    tcase_add_test(tc, permissions_and_validation);
    tcase_add_test(tc, sign_in_round_trips);
    tcase_add_test(tc, concurrent_create_and_accept);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
