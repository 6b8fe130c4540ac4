/* server: one FastCGI worker. Accepts one request at a time on a listening
 * socket with libfcgi's reentrant API, turns it into a struct request, runs
 * route -> auth -> handler, writes the response and one access-log line,
 * then resets the per-request arena. Owns the arena, the FCGX_Request and
 * the watchdog timer. On WSMS_MAX_REQUESTS or a request timeout the worker
 * replaces itself by exec'ing a fresh copy on the same listening socket, so
 * it works the same under spawn-fcgi, systemd and the supervisor. */
#ifndef WSMS_SERVER_H
#define WSMS_SERVER_H

/* Opens "PATH" (unix socket) or "HOST:PORT" for listening; -1 on error. */
int server_listen(const char *spec, int backlog);
/* Serves until SIGTERM/SIGINT (after finishing the request in hand).
 * Returns the process exit status. self is argv[0] for re-exec. */
int server_worker(int listen_fd, const char *self);

#endif
