/* mint: Entra-like RS256 access tokens for the benchmarks (bench-auth.sh),
 * signed with the bench stack's test key. Every token names the same
 * person (oid, email) and differs by its jti, so each one is a distinct
 * token for the workers' verification cache.
 *   mint KEY.pem KID TENANT AUDIENCE OID EMAIL COUNT   one token per line */
#include "tokens.h"
#include "core/util.h"

#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: mint KEY.pem KID TENANT AUDIENCE OID EMAIL COUNT\n");
        return 2;
    }
    long count = strtol(argv[7], NULL, 10);
    FILE *f = fopen(argv[1], "r");
    if (!f || count < 1) {
        fprintf(stderr, "mint: cannot read %s or bad count\n", argv[1]);
        if (f)
            fclose(f);
        return 1;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        fprintf(stderr, "mint: %s is not a private key\n", argv[1]);
        return 1;
    }
    int rc = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        char jti[GUID_LEN + 1];
        cJSON *c = tok_entra_claims(argv[3], argv[4], argv[5], argv[6], "Bench User", 4 * 3600);
        char *t = NULL;
        if (c && guid_new(jti) == 0 && cJSON_AddStringToObject(c, "jti", jti))
            t = tok_entra_token(key, argv[2], c);
        if (!t || printf("%s\n", t) < 0)
            rc = 1;
        free(t);
        cJSON_Delete(c);
    }
    EVP_PKEY_free(key);
    if (fflush(stdout) != 0)
        rc = 1;
    if (rc)
        fprintf(stderr, "mint: signing failed\n");
    return rc;
}
