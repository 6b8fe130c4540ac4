#!/bin/sh
# Turns text files (schema/*/*.sql, src/openapi.json) into a C table so the
# wsmsd binary carries its migrations and OpenAPI document with it.
# Usage: sh src/core/embed.sh FILE... > embedded.c
set -eu
echo '#include "core/embedded.h"'
echo '#include <string.h>'
echo 'static const struct embedded_file files[] = {'
for f in "$@"; do
    printf '    {"%s", ' "$f"
    awk 'BEGIN { printf "\"" }
         { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); gsub(/\t/, "\\t"); gsub(/\r/, ""); printf "%s\\n\"\n        \"", $0 }
         END { printf "\"" }' "$f"
    printf ', %s},\n' "$(wc -c < "$f" | tr -d ' ')"
done
echo '    {0, 0, 0}};'
cat <<'EOC'
const struct embedded_file *embedded_files(void)
{
    return files;
}
const char *embedded_get(const char *name, size_t *len)
{
    for (const struct embedded_file *f = files; f->name; f++)
        if (strcmp(f->name, name) == 0) {
            if (len)
                *len = strlen(f->data);
            return f->data;
        }
    return 0;
}
EOC
