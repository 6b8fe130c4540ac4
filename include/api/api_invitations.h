/* api_invitations: HTTP handlers for /workspaces/{id}/invitations (POST
 * create, GET list with status filter and pagination),
 * /workspaces/{id}/invitations/{inv_id} (DELETE revoke) and .../resend,
 * /invitations/{inv_id}/accept and /decline (the invited person) and
 * GET /me/invitations: parse and validate, call domain/invitations, build
 * the response (an accept carries a fresh PMA token). No SQL here. */
#ifndef WSMS_API_INVITATIONS_H
#define WSMS_API_INVITATIONS_H

#include "http/http.h"

wsms_err api_invitations_create(struct request *rq, struct response *rs);
wsms_err api_invitations_list(struct request *rq, struct response *rs);
wsms_err api_invitations_resend(struct request *rq, struct response *rs);
wsms_err api_invitations_revoke(struct request *rq, struct response *rs);
wsms_err api_invitations_accept(struct request *rq, struct response *rs);
wsms_err api_invitations_decline(struct request *rq, struct response *rs);
wsms_err api_me_invitations(struct request *rq, struct response *rs);

#endif
