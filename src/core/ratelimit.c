#include "core/ratelimit.h"

#include "core/config.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#define LG      "ratelimit"
#define MAGIC   0x57534d52u /* "WSMR" */
#define VERSION 1u
#define UNIT    60000 /* units per token */

struct bucket {
    uint64_t k1, k2; /* first 16 bytes of SHA-256(identity); 0,0 = free */
    int64_t units;   /* tokens * UNIT */
    int64_t last_ms; /* last refill */
};

struct table {
    uint32_t magic, version;
    uint32_t nkeys, pad;
    pthread_mutex_t lock;
    struct bucket b[RATELIMIT_MAX_KEYS];
};

static struct table *tab;        /* shared mapping, or NULL */
static struct table private_tab; /* without WSMS_RUN_DIR */
static bool private_ready;
static long per_min, burst_tokens;

void ratelimit_configure(long per_minute, long burst)
{
    per_min = per_minute > 0 ? per_minute : 0;
    burst_tokens = burst >= 1 ? burst : per_min;
}

bool ratelimit_enabled(void)
{
    return per_min > 0;
}

static int init_mutex(pthread_mutex_t *m, bool shared)
{
    pthread_mutexattr_t at;
    int rc = -1;
    if (pthread_mutexattr_init(&at) != 0)
        return -1;
    if (shared && (pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED) != 0 ||
                   pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) != 0))
        goto out;
    if (pthread_mutex_init(m, &at) != 0)
        goto out;
    rc = 0;
out:
    pthread_mutexattr_destroy(&at);
    return rc;
}

static struct table *table(void)
{
    if (tab)
        return tab;
    if (!private_ready) {
        memset(&private_tab, 0, sizeof(private_tab));
        if (init_mutex(&private_tab.lock, false) != 0)
            return NULL;
        private_tab.magic = MAGIC;
        private_tab.version = VERSION;
        private_tab.nkeys = RATELIMIT_MAX_KEYS;
        private_ready = true;
    }
    return &private_tab;
}

int ratelimit_init(void)
{
    const struct config *cfg = config_get();
    char path[4096];
    int fd = -1, rc = -1;
    void *m = MAP_FAILED;

    ratelimit_configure(cfg->rate_limit_per_minute, cfg->rate_limit_burst);
    if (!*cfg->run_dir) {
        if (per_min > 0)
            log_info(LG, "WSMS_RUN_DIR not set: rate limits count per worker");
        rc = 0;
        goto out;
    }
    int w = snprintf(path, sizeof(path), "%s/wsms-ratelimit.bin", cfg->run_dir);
    if (w < 0 || (size_t)w >= sizeof(path))
        goto out;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0 || flock(fd, LOCK_EX) != 0)
        goto out;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size != (off_t)sizeof(struct table) && ftruncate(fd, 0) == 0)
        size = 0;
    if (size == 0 && ftruncate(fd, (off_t)sizeof(struct table)) != 0)
        goto out;
    m = mmap(NULL, sizeof(struct table), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        goto out;
    struct table *t = m;
    /* first worker (under the file lock): a fresh table and its mutex */
    if (t->magic != MAGIC || t->version != VERSION || t->nkeys != RATELIMIT_MAX_KEYS) {
        memset(t, 0, sizeof(*t));
        if (init_mutex(&t->lock, true) != 0) {
            munmap(m, sizeof(struct table));
            m = MAP_FAILED;
            goto out;
        }
        t->nkeys = RATELIMIT_MAX_KEYS;
        t->version = VERSION;
        __atomic_store_n(&t->magic, MAGIC, __ATOMIC_RELEASE);
    }
    tab = t;
    rc = 0;
out:
    if (rc != 0)
        log_warn(LG, "cannot map %s/wsms-ratelimit.bin (%s); rate limits count per worker",
                 cfg->run_dir, strerror(errno));
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
    return rc;
}

void ratelimit_close(void)
{
    if (tab) {
        munmap(tab, sizeof(*tab));
        tab = NULL;
    }
}

static int lock(struct table *t)
{
    int rc = pthread_mutex_lock(&t->lock);
    if (rc == EOWNERDEAD) {
        /* a worker died holding it: the buckets are plain integers, at
         * worst one refill is lost */
        log_warn(LG, "recovered the rate limit lock from a dead worker");
        if (pthread_mutex_consistent(&t->lock) != 0)
            return -1;
        rc = 0;
    }
    return rc == 0 ? 0 : -1;
}

bool ratelimit_take(const char *identity, int64_t now, long *retry_after_s)
{
    unsigned char h[32];
    uint64_t k1, k2;
    bool allowed = true;
    struct table *t;

    if (retry_after_s)
        *retry_after_s = 0;
    if (per_min <= 0 || !identity)
        goto out;
    t = table();
    if (!t || sha256(identity, strlen(identity), h) != 0)
        goto out; /* fail open: limiting is protection, not authorisation */
    memcpy(&k1, h, sizeof(k1));
    memcpy(&k2, h + 8, sizeof(k2));
    if (k1 == 0 && k2 == 0)
        k2 = 1;
    size_t start = (size_t)(k1 % RATELIMIT_MAX_KEYS);
    int64_t cap = (int64_t)burst_tokens * UNIT;
    if (lock(t) != 0)
        goto out;
    struct bucket *hit = NULL, *free_b = NULL, *lru = NULL;
    for (size_t i = 0; i < RATELIMIT_PROBE; i++) {
        struct bucket *b = &t->b[(start + i) % RATELIMIT_MAX_KEYS];
        if (b->k1 == k1 && b->k2 == k2) {
            hit = b;
            break;
        }
        if (b->k1 == 0 && b->k2 == 0) {
            if (!free_b)
                free_b = b;
        } else if (!lru || b->last_ms < lru->last_ms) {
            lru = b;
        }
    }
    if (!hit) {
        hit = free_b ? free_b : lru;
        hit->k1 = k1;
        hit->k2 = k2;
        hit->units = cap;
        hit->last_ms = now;
    }
    if (now > hit->last_ms) {
        int64_t add = (now - hit->last_ms) * (int64_t)per_min;
        hit->units = add >= cap - hit->units ? cap : hit->units + add;
        hit->last_ms = now;
    }
    if (hit->units > cap)
        hit->units = cap; /* the limits were lowered */
    if (hit->units >= UNIT) {
        hit->units -= UNIT;
    } else {
        allowed = false;
        int64_t missing = UNIT - hit->units;
        int64_t ms = (missing + per_min - 1) / per_min;
        if (retry_after_s)
            *retry_after_s = (long)((ms + 999) / 1000);
        if (retry_after_s && *retry_after_s < 1)
            *retry_after_s = 1;
    }
    pthread_mutex_unlock(&t->lock);
out:
    return allowed;
}
