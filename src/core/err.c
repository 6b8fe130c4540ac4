#include "core/err.h"

struct err_row {
    int status;
    const char *code;
    const char *msg;
};

static const struct err_row rows[] = {[WSMS_OK] = {200, "OK", "OK"},
#define WSMS_ERR_ROW(name, st, m) [name] = {st, #name + 2, m},
                                      WSMS_ERRORS(WSMS_ERR_ROW)
#undef WSMS_ERR_ROW
};

static const struct err_row *row(wsms_err e)
{
    if ((int)e < 0 || e >= WSMS_ERR__COUNT)
        return &rows[E_INTERNAL_SERVER_ERROR];
    return &rows[e];
}

int err_status(wsms_err e)
{
    return row(e)->status;
}

const char *err_code(wsms_err e)
{
    return row(e)->code;
}

const char *err_message(wsms_err e)
{
    return row(e)->msg;
}
