/* libFuzzer target: JWKS documents (jwks_parse, jwks_find in jwks.c). The
 * document is an exact-size copy (no terminator) so over-reads show.
 * Every kid the document names is looked up. Invariants violated abort().
 * t/unit/test_fuzz_regressions.c includes this file with FUZZ_ENTRY
 * renamed. */
#include "auth/jwks.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

static void fz_jwks_find(const struct jwks *set, const char *kid)
{
    char why[128];
    EVP_PKEY *k = NULL;
    if (jwks_find(set, kid, &k, why, sizeof(why)) == 0) {
        if (!k || EVP_PKEY_is_a(k, "RSA") != 1 || EVP_PKEY_get_bits(k) < 2048)
            abort();
        EVP_PKEY_free(k);
    } else if (k) {
        abort();
    }
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char why[128];
    char *doc = malloc(size ? size : 1);
    if (!doc)
        return 0;
    memcpy(doc, data, size);
    struct jwks *set = NULL;
    if (jwks_parse(doc, size, &set, why, sizeof(why)) == 0) {
        size_t n = jwks_count(set);
        if (!set || n == 0 || n > JWKS_MAX_KEYS)
            abort();
        fz_jwks_find(set, NULL);
        fz_jwks_find(set, "");
        fz_jwks_find(set, "k1");
        cJSON *j = cJSON_ParseWithLength(doc, size);
        cJSON *k;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(j, "keys"))
        {
            const char *kid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(k, "kid"));
            if (kid)
                fz_jwks_find(set, kid);
        }
        cJSON_Delete(j);
        jwks_free(set);
    } else if (set) {
        abort();
    }
    free(doc);
    return 0;
}
