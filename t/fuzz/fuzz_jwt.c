/* libFuzzer target: JWT/JWS parsing and verification (jws_decode in
 * jwks.c, pma_verify in pma.c, entra_verify in entra.c) under a fixed
 * configuration: a known PMA secret and a JWKS file holding one RSA key
 * generated at start. The first input byte picks the mode:
 *   0, 3  the rest is a raw token for jws_decode, pma_verify, entra_verify
 *   1     the rest is "header JSON\0payload JSON", signed HS256 with the
 *         PMA secret by the harness, so pma_verify's claim checks are fuzzed
 *   2     the same, signed RS256 with the JWKS key, for entra_verify
 * Invariants violated abort(). t/unit/test_fuzz_regressions.c includes
 * this file with FUZZ_ENTRY/FUZZ_INIT renamed. */
#include "core/config.h"
#include "auth/entra.h"
#include "auth/jwks.h"
#include "auth/pma.h"
#include "tokens.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
#ifndef FUZZ_INIT
#define FUZZ_INIT LLVMFuzzerInitialize
#endif

#define FZ_JWT_SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"
#define FZ_JWT_KID    "fuzz-key"

int FUZZ_INIT(int *argc, char ***argv);
int FUZZ_ENTRY(const uint8_t *data, size_t size);

static EVP_PKEY *fz_jwt_key;

int FUZZ_INIT(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/wsms-fuzz-jwt.XXXXXX", path[64], url[80], err[256];
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof(path), "%s/jwks.json", dir);
    snprintf(url, sizeof(url), "file://%s", path);
    fz_jwt_key = tok_rsa_new();
    const char *kids[] = {FZ_JWT_KID};
    if (!fz_jwt_key || tok_jwks_write(path, &fz_jwt_key, kids, 1) != 0)
        abort();
    setenv("PMA_TOKEN_SECRET", FZ_JWT_SECRET, 1);
    setenv("AZURE_TENANT_ID", "11111111-2222-3333-4444-555555555555", 1);
    setenv("AZURE_AUDIENCE", "api://wsms-fuzz", 1);
    setenv("AZURE_JWKS_URL", url, 1);
    setenv("LOG_LEVEL", "CRITICAL", 1);
    if (config_load(CONFIG_SERVE, "/nonexistent", err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_jwt: %s\n", err);
        abort();
    }
    /* load the keys now; the file can go (the cache keeps them) */
    EVP_PKEY *k = NULL;
    if (jwks_cache_key(FZ_JWT_KID, &k, err, sizeof(err)) != 0)
        abort();
    EVP_PKEY_free(k);
    unlink(path);
    rmdir(dir);
    return 0;
}

static void fz_jwt_raw(const char *tok)
{
    char why[128];
    struct jws j;
    struct pma_claims pc;
    struct entra_identity id;
    if (jws_decode(tok, ENTRA_MAX_TOKEN_BYTES, &j, why, sizeof(why)) == 0) {
        if (!cJSON_IsObject(j.header) || !cJSON_IsObject(j.payload) ||
            j.signed_len >= strlen(tok) || (j.sig_b64_len > 0) != (j.sig != NULL))
            abort();
    } else if (j.header || j.payload || j.sig) {
        abort(); /* cleared on failure */
    }
    jws_clear(&j);
    if (pma_verify(tok, 0, &pc, why, sizeof(why)) == 0)
        abort(); /* nobody can forge the HMAC */
    if (pma_verify(tok, 7L * 86400, &pc, why, sizeof(why)) == 0)
        abort();
    if (entra_verify(tok, &id, why, sizeof(why)) == 0)
        abort(); /* nor the RSA signature */
}

static void fz_jwt_signed(int rsa, const char *header, const char *payload)
{
    char why[128];
    char *tok = rsa ? tok_sign_rs256(header, payload, fz_jwt_key)
                    : tok_sign_hs256(header, payload, FZ_JWT_SECRET, strlen(FZ_JWT_SECRET));
    if (!tok)
        return;
    if (rsa) {
        struct entra_identity id;
        if (entra_verify(tok, &id, why, sizeof(why)) == 0 &&
            (!id.user_id[0] || strlen(id.display_name) >= sizeof(id.display_name)))
            abort();
    } else {
        struct pma_claims pc;
        for (int g = 0; g < 2; g++)
            if (pma_verify(tok, g ? 7L * 86400 : 0, &pc, why, sizeof(why)) == 0 &&
                (!pc.user_id[0] || pc.exp < pc.iat))
                abort();
    }
    free(tok);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % 4;
    size_t n = size - 1;
    char *s = malloc(n + 2);
    if (!s)
        return 0;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    s[n + 1] = '\0';
    if (mode == 1 || mode == 2) {
        size_t hl = strlen(s);
        const char *header = s, *payload = s + hl + 1;
        if (hl == n) { /* no separator: the whole input is the payload */
            header = mode == 1 ? "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
                               : "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"" FZ_JWT_KID "\"}";
            payload = s;
        }
        fz_jwt_signed(mode == 2, header, payload);
    } else {
        fz_jwt_raw(s);
    }
    free(s);
    return 0;
}
