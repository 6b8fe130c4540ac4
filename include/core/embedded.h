/* embedded: text files compiled into the binary (src/embed.sh generates the
 * table at build time): schema/<dialect>/NNN_name.sql and src/openapi.json. The data
 * is static; nothing to free. */
#ifndef WSMS_EMBEDDED_H
#define WSMS_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *name; /* path relative to the repository, e.g. "schema/sqlite/001_master.sql" */
    const char *data; /* NUL-terminated */
    size_t size;      /* size of the source file (informational) */
};

/* Sorted by name; terminated by an entry whose name is NULL. */
const struct embedded_file *embedded_files(void);
/* NULL when absent. */
const char *embedded_get(const char *name, size_t *len);

#endif
