#include "auth/sessions.h"

#include "core/log.h"
#include "core/util.h"
#include "data/db.h"

#include <string.h>
#include <time.h>

#define LG "sessions"

int sessions_is_revoked(long iat, long revoked_through)
{
    return revoked_through > 0 && iat <= revoked_through;
}

wsms_err sessions_revoke(const char *user_id, long *through)
{
    wsms_err e = WSMS_OK;
    long n = 0;
    long now = (long)time(NULL);
    int64_t at = now_ms();

    if (!user_id || !*user_id || strlen(user_id) > SESSIONS_MAX_USER_ID) {
        e = E_VALIDATION_ERROR;
        goto out;
    }
    /* no MERGE: move an existing row forward, else insert; a row that
     * appears meanwhile (E_CONFLICT) is moved forward by a second UPDATE */
    for (int attempt = 0; attempt < 2; attempt++) {
        e = db_exec(&n,
                    "UPDATE pmassist_master.UserSessionRevocation SET revoked_through = ?, "
                    "revoked_at = ? WHERE user_id = ? AND revoked_through < ?",
                    "itsi", (long long)now, at, user_id, (long long)now);
        if (e != WSMS_OK || n > 0)
            break;
        e = db_exec(&n,
                    "INSERT INTO pmassist_master.UserSessionRevocation "
                    "(user_id, revoked_through, revoked_at) VALUES (?, ?, ?)",
                    "sit", user_id, (long long)now, at);
        if (e != E_CONFLICT)
            break;
        /* the row exists: either already at or past now (nothing to do) or
         * inserted by a concurrent revocation; try the UPDATE once more */
        e = WSMS_OK;
    }
    if (e != WSMS_OK)
        goto out;
    log_info(LG, "sessions of user %s revoked through %ld", user_id, now);
out:
    if (through)
        *through = e == WSMS_OK ? now : 0;
    return e;
}
