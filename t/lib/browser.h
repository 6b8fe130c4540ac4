/* browser: a real headless Chromium (Debian's chromium package) for the
 * checks a browser alone can make, and a static file server on a loopback
 * port to give a page its own origin. */
#ifndef WSMS_T_BROWSER_H
#define WSMS_T_BROWSER_H

#include <sys/types.h>

/* The DOM of url after its scripts ran (Chromium --dump-dom with a virtual
 * time budget), malloc'd; NULL with why when Chromium is missing or fails. */
char *tb_dom(const char *url, char *why, size_t whylen);
/* Serves dir on 127.0.0.1:port (python3 -m http.server) and waits until it
 * answers; returns its pid, or -1. Stop it with tb_server_stop. */
pid_t tb_server_start(const char *dir, int port);
void tb_server_stop(pid_t pid);

#endif
