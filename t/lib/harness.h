/* Shared harness of the unit tests that talk to the loopback fakes
 * (t/fake/upstream.py via t/lib/fake.sh) or Azurite: the repository root,
 * shell commands, the fake's lifecycle and records, and a configuration
 * with only the given outbound settings. Uses Check's assertions. */
#ifndef WSMS_T_HARNESS_H
#define WSMS_T_HARNESS_H

#include <cjson/cJSON.h>
#include <limits.h>
#include <stddef.h>

/* The repository root, set by th_find_root(). */
extern char th_root[PATH_MAX];

/* $WSMS_ROOT, the working directory, or four levels above the binary. */
int th_find_root(void);
/* system() of a formatted command; its exit status or -1. */
int th_run_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The integer in dir/name, or -1. */
int th_read_int_file(const char *dir, const char *name);
/* Starts the fake in a new temp dir (env: extra "K=V " words for fake.sh). */
int th_fake_start(char *dir, size_t dirlen, char *url, size_t urllen, const char *env);
void th_fake_stop(const char *dir);
/* POST /__reset and GET /__requests of the fake at url. */
void th_fake_reset(const char *url);
cJSON *th_fake_requests(const char *url);
int th_count_listener(const cJSON *reqs, const char *listener);
/* A loopback port nothing listens on. */
int th_closed_port(void);
/* Clears every outbound setting and proxy variable, sets the pairs
 * (NULL-terminated K, V, K, V ...) and loads the configuration. */
void th_config_with(const char *const *kv);

#endif
