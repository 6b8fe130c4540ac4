#include "domain/automation/dag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { WHITE = 0, GREY, BLACK };

/* Writes nodes stack[from..top] and stack[from] again as "a -> b -> a". */
static void write_path(const struct dag_node *nodes, const size_t *stack, size_t from, size_t top,
                       char *path, size_t pathlen)
{
    size_t used = 0;
    if (!pathlen)
        return;
    path[0] = '\0';
    for (size_t i = from; i <= top + 1; i++) {
        const char *l = nodes[stack[i <= top ? i : from]].label;
        int w = snprintf(path + used, pathlen - used, "%s%s", i == from ? "" : " -> ", l ? l : "?");
        if (w < 0 || (size_t)w >= pathlen - used) {
            if (pathlen >= 4)
                memcpy(path + pathlen - 4, "...", 4);
            return;
        }
        used += (size_t)w;
    }
}

int dag_find_cycle(const struct dag_node *nodes, size_t n, char *path, size_t pathlen)
{
    int rc = -1;
    unsigned char *color = calloc(n ? n : 1, 1);
    size_t *stack = malloc((n ? n : 1) * sizeof(*stack)); /* the current DFS path */
    size_t *next = calloc(n ? n : 1, sizeof(*next));      /* next dep to visit, per node */
    if (pathlen)
        path[0] = '\0';
    if (!color || !stack || !next)
        goto out;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nodes[i].ndeps; k++)
            if (nodes[i].deps[k] >= n)
                goto out;
    rc = 0;
    for (size_t root = 0; root < n && rc == 0; root++) {
        if (color[root] != WHITE)
            continue;
        size_t top = 0;
        stack[0] = root;
        color[root] = GREY;
        for (;;) {
            size_t v = stack[top];
            if (next[v] < nodes[v].ndeps) {
                size_t d = nodes[v].deps[next[v]++];
                if (color[d] == GREY) {
                    size_t from = 0;
                    while (stack[from] != d)
                        from++;
                    write_path(nodes, stack, from, top, path, pathlen);
                    rc = 1;
                    break;
                }
                if (color[d] == WHITE) {
                    color[d] = GREY;
                    stack[++top] = d;
                }
                continue;
            }
            color[v] = BLACK;
            if (top == 0)
                break;
            top--;
        }
    }
out:
    free(color);
    free(stack);
    free(next);
    return rc;
}
