/* libFuzzer target: the .env parser (config_parse_env_text in config.c) on
 * an exact-size buffer (no terminator). Every key handed to the callback
 * must be an identifier; a callback failure must be reported as a bad line.
 * Invariants violated abort(). t/unit/test_fuzz_regressions.c includes
 * this file with FUZZ_ENTRY renamed. */
#include "core/config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

struct fz_env_state {
    int calls;
    int refused;
};

static int fz_env_cb(const char *key, const char *val, void *ud)
{
    struct fz_env_state *st = ud;
    size_t kl = strlen(key), vl = strlen(val);
    if (kl == 0 || isdigit((unsigned char)key[0]))
        abort();
    for (size_t i = 0; i < kl; i++)
        if (!isalnum((unsigned char)key[i]) && key[i] != '_')
            abort();
    if (memchr(val, '\n', vl))
        abort();
    st->calls++;
    /* a callback may refuse a value: the parser must stop with a bad line */
    if (strcmp(key, "REFUSE") == 0) {
        st->refused = 1;
        return -1;
    }
    return 0;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    struct fz_env_state st = {0, 0};
    int bad = 0;
    int rc = config_parse_env_text(text, size, fz_env_cb, &st, &bad);
    if (rc == 0 && (bad != 0 || st.refused))
        abort();
    if (rc != 0 && bad < 1)
        abort();
    int lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += text[i] == '\n';
    if (bad > lines || st.calls > lines)
        abort();
    free(text);
    return 0;
}
