/* routes: the one static route table (src/server/routes.c): every path the
 * service answers, its handler, who may call it and the minimum workspace
 * role. The same table yields 404/405 + Allow (router_match), the metrics'
 * route labels, and is what the OpenAPI test compares against. */
#ifndef WSMS_ROUTES_H
#define WSMS_ROUTES_H

#include "http/router.h"

#include <stddef.h>

/* The table (static, never freed); *n gets its length. */
const struct route *routes_table(size_t *n);

#endif
