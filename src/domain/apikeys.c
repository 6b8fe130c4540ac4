#include "domain/apikeys.h"

#include "auth/apikeys.h"
#include "auth/roles.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/util.h"
#include "data/db.h"
#include "domain/audit.h"

#include <openssl/crypto.h>
#include <string.h>

#define LG "apikeys"

/* {"id","workspace_id","name","key_prefix","scopes":[...],"created_by",
 * "created_at","expires_at","revoked_at","last_used_at"} from strings. */
static cJSON *key_json(const char *const v[10])
{
    static const char *const names[] = {"id",         "workspace_id", "name",       "key_prefix",
                                        "scopes",     "created_by",   "created_at", "expires_at",
                                        "revoked_at", "last_used_at"};
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    for (int i = 0; i < 10; i++) {
        cJSON *it;
        if (i == 4) {
            it = cJSON_CreateArray();
            unsigned mask = apikey_scopes_parse(v[i]);
            static const char *const sc[] = {"read", "write", "admin"};
            for (int b = 0; it && b < 3; b++) {
                if (!(mask & (1u << b)))
                    continue;
                cJSON *s = cJSON_CreateString(sc[b]);
                if (!s || !cJSON_AddItemToArray(it, s)) {
                    cJSON_Delete(s);
                    cJSON_Delete(it);
                    it = NULL;
                }
            }
        } else {
            it = v[i] ? cJSON_CreateString(v[i]) : cJSON_CreateNull();
        }
        if (!it || !cJSON_AddItemToObject(o, names[i], it)) {
            cJSON_Delete(it);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static wsms_err end_tx(wsms_err e)
{
    if (!db_in_transaction())
        return e;
    if (e == WSMS_OK)
        return db_commit();
    db_rollback();
    return e;
}

wsms_err apikeys_create(struct request *rq, const char *name, unsigned scopes, int64_t expires_ms,
                        cJSON **out)
{
    char id[GUID_LEN + 1], key[APIKEY_LEN + 1], prefix[APIKEY_PREFIX_LEN + 1];
    char hash[APIKEY_HASH_LEN + 1], sc[32], created[25], expires[25];
    cJSON *obj = NULL, *details = NULL;
    int64_t now = now_ms();
    wsms_err e = E_INTERNAL_SERVER_ERROR;
    *out = NULL;
    memset(key, 0, sizeof(key));
    if (guid_new(id) != 0 || apikey_generate(key, prefix, hash) != 0)
        goto out;
    apikey_scopes_text(scopes, sc, sizeof(sc));
    iso8601_ms(now, created);
    iso8601_ms(expires_ms, expires);
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    e = db_exec(NULL,
                "INSERT INTO pmassist_master.ApiKey (id, workspace_id, name, key_prefix, "
                "secret_hash, scopes, created_by, created_at, expires_at, revoked_at, "
                "last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
                "ssssssstt", id, rq->workspace_id, name, prefix, hash, sc, rq->user.user_id, now,
                expires_ms);
    if (e != WSMS_OK)
        goto out;
    details = cJSON_CreateObject();
    if (!details || !cJSON_AddStringToObject(details, "api_key_id", id) ||
        !cJSON_AddStringToObject(details, "name", name) ||
        !cJSON_AddStringToObject(details, "scopes", sc) ||
        !cJSON_AddStringToObject(details, "expires_at", expires)) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    if ((e = audit_write(rq->workspace_id, "API_KEY_CREATED", rq->user.user_id, details)) !=
        WSMS_OK)
        goto out;
    const char *v[10] = {id,      rq->workspace_id, name, prefix, sc, rq->user.user_id,
                         created, expires,          NULL, NULL};
    obj = key_json(v);
    if (!obj || !cJSON_AddStringToObject(obj, "key", key)) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    e = end_tx(WSMS_OK);
    if (e != WSMS_OK)
        goto out;
    log_info(LG, "API key %s (%s) created on workspace %s", id, prefix, rq->workspace_id);
    *out = obj;
    obj = NULL;
out:
    e = end_tx(e);
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(hash, sizeof(hash));
    cJSON_Delete(details);
    cJSON_Delete(obj);
    return e;
}

#define KEY_PLAIN                                                                                  \
    "id, workspace_id, name, key_prefix, scopes, created_by, created_at, expires_at, revoked_at, " \
    "last_used_at"
#define KEY_NCOLS 10

wsms_err apikeys_list(struct request *rq, cJSON **out)
{
    struct db_rows rows;
    struct roles_read q;
    *out = NULL;
    const char *typed = roles_read_cols(rq->arena, "ta", KEY_PLAIN);
    const char *cols = roles_read_cols(rq->arena, "a", KEY_PLAIN);
    if (!typed || !cols)
        return E_INTERNAL_SERVER_ERROR;
    /* one statement: the caller's role and the keys */
    wsms_err e =
        roles_read_start(&q, rq, KEY_NCOLS, "GGSSSSTTTT", typed, "pmassist_master.ApiKey ta");
    if (e == WSMS_OK)
        e = roles_read_branch(&q, 'a', "ROW_NUMBER() OVER (ORDER BY a.created_at DESC, a.id), 0", 0,
                              KEY_NCOLS, cols,
                              "FROM pmassist_master.ApiKey a WHERE a.workspace_id = ?");
    db_param_s(&q.params, rq->workspace_id);
    if (e == WSMS_OK)
        e = roles_read_run(&q, &rows);
    if (e != WSMS_OK)
        return e;
    cJSON *arr = cJSON_CreateArray();
    if (!arr)
        return E_INTERNAL_SERVER_ERROR;
    for (int r = 0; r < rows.nrows; r++) {
        if (roles_read_kind(&rows, r) != 'a')
            continue;
        const char *v[KEY_NCOLS];
        for (int c = 0; c < KEY_NCOLS; c++)
            v[c] = db_val(&rows, r, ROLES_C_DATA + c);
        cJSON *o = key_json(v);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return E_INTERNAL_SERVER_ERROR;
        }
    }
    *out = arr;
    return WSMS_OK;
}

wsms_err apikeys_revoke(struct request *rq, const char *key_id)
{
    char id[GUID_LEN + 1];
    long n = 0;
    cJSON *details = NULL;
    wsms_err e = E_RESOURCE_NOT_FOUND;
    if (!key_id || guid_normalize(key_id, id) != 0)
        goto out;
    if ((e = db_begin()) != WSMS_OK)
        goto out;
    e = db_exec(&n,
                "UPDATE pmassist_master.ApiKey SET revoked_at = ? "
                "WHERE id = ? AND workspace_id = ? AND revoked_at IS NULL",
                "tss", now_ms(), id, rq->workspace_id);
    if (e == WSMS_OK && n != 1)
        e = E_RESOURCE_NOT_FOUND;
    if (e != WSMS_OK)
        goto out;
    details = cJSON_CreateObject();
    if (!details || !cJSON_AddStringToObject(details, "api_key_id", id)) {
        e = E_INTERNAL_SERVER_ERROR;
        goto out;
    }
    e = audit_write(rq->workspace_id, "API_KEY_REVOKED", rq->user.user_id, details);
    if (e == WSMS_OK)
        log_info(LG, "API key %s revoked on workspace %s", id, rq->workspace_id);
out:
    e = end_tx(e);
    cJSON_Delete(details);
    return e;
}
