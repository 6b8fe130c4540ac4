#include "auth.h"

wsms_err auth_request(struct request *rq, struct response *rs)
{
    (void)rq;
    return resp_error(rs, E_INTERNAL_SERVER_ERROR, "authentication is not wired yet");
}
