/* The FastCGI ceiling for `make bench`: the smallest libfcgi responder
 * (FCGX_Accept_r loop answering a fixed JSON body), run behind the same
 * nginx with the same number of workers as wsmsd, on a Unix socket, and
 * closing each connection at once as wsmsd does there (a detached request
 * skips libfcgi's wait for nginx to close first; src/server/server.c).
 * Not part of the service. */
#include <fcgiapp.h>
#include <stdlib.h>

int main(void)
{
    FCGX_Request req;
    if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
        return 1;
    while (FCGX_Accept_r(&req) >= 0) {
        FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n"
                  "{\"status\":\"healthy\"}",
                  req.out);
        if (FCGX_Detach(&req) != 0)
            return 1;
        FCGX_Finish_r(&req);
    }
    return 0;
}
