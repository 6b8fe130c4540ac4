/* dag: the job dependency graph of one workspace must stay acyclic. Nodes
 * are given by the caller (labels and dependency indexes it owns); the
 * search allocates only its own scratch arrays and frees them. */
#ifndef WSMS_DAG_H
#define WSMS_DAG_H

#include <stddef.h>

struct dag_node {
    const char *label;  /* shown in the cycle path (a job's name) */
    const size_t *deps; /* indexes of the nodes this one depends on */
    size_t ndeps;
};

/* Looks for a cycle. Returns 1 and writes the first one found into path as
 * "a -> b -> a" (truncated to pathlen with "..." when it does not fit),
 * 0 when the graph is acyclic, -1 when out of memory or a dependency index
 * is out of range. Iterative: any depth. */
int dag_find_cycle(const struct dag_node *nodes, size_t n, char *path, size_t pathlen);

#endif
