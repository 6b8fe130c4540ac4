/* supervisor: `wsmsd --workers N` preforks N workers on one listening
 * socket, respawns a worker that dies (logging why, with backoff when they
 * die quickly), on SIGTERM/SIGINT lets every worker finish the request in
 * hand and exit, and on SIGHUP replaces workers one at a time (rolling
 * restart). Owns the child table. */
#ifndef WSMS_SUPERVISOR_H
#define WSMS_SUPERVISOR_H

int supervisor_run(int listen_fd, int workers, const char *self);

#endif
