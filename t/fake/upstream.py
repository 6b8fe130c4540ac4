#!/usr/bin/env python3
"""Loopback fake of the four integration providers (Jira Cloud, Azure DevOps,
ServiceNow, Microsoft Graph) for WSMS tests. Standard library only.

Listeners
  main   127.0.0.1:<port>   serves the providers and the control endpoints
  other  127.0.0.2:<port>   "another host": redirects and next links point
                            here; it answers 200 but every request to it is
                            recorded so tests can assert it was never used
  tls    127.0.0.1:<tls>    optional (--tls-cert/--tls-key), same handlers
                            over HTTPS with a certificate clients must reject

Provider routes (any path prefix before them is allowed, e.g. an ADO org):
  .../rest/api/3/project/search   Jira   (startAt/maxResults, isLast)
  .../_apis/projects              ADO    (x-ms-continuationtoken)
  .../api/sn_ppm/workspace/space  ServiceNow
  .../v1.0/sites                  Graph  (@odata.nextLink, $skiptoken)

Choosing a scenario
  1. per request, by a path prefix: /s/<scenario>/..., e.g. a base URL
     http://127.0.0.1:PORT/s/500/jira ; the prefix wins over 2.
  2. globally: POST /__scenario with body "<scenario>" or {"scenario": "..."}
     (applies to requests without a /s/ prefix; POST /__reset restores "ok").

Scenarios
  ok           3 pages of 2 items (ServiceNow: one page of 3 items)
  401 403 404 429 500   that status with a small JSON error body
  malformed    200 with a truncated JSON body
  wrongshape   200 with valid JSON that is not the documented shape (an array)
  noarray      200 with an object whose list member is not an array
  baditems     200 with list items that have neither id nor name
  big          200 with a 9 MiB body and a Content-Length header
  bigchunked   200 with a 9 MiB chunked body (no length)
  stall        sleeps --stall-seconds before answering
  slowpages    every page is delayed by --page-delay seconds
  cutoff       announces 1000 bytes, sends 100, closes the connection
  redirect     302 to the same path on the other host
  nextother    Graph: page 1 whose @odata.nextLink is on the other host;
               Jira: page 1 whose nextPage is on the other host (ignored by
               clients that page with startAt)
  loop         never-ending pagination (new items, new tokens every page)
  empty        200 with an empty list

Control endpoints (main listener only)
  GET  /__health      {"ok": true}
  GET  /__requests    [{"listener","method","path","provider","scenario",
                        "authorization","proxied","peer_port"}...] in arrival
                      order (control requests are not recorded)
  POST /__reset       clears the records, scenario back to "ok"
  POST /__scenario    sets the global scenario
  *    /__echo        {"method","path","headers":{lowercased},"body"}

A request in absolute form (GET http://host/path, i.e. sent through a
proxy) is served like the plain path and recorded with "proxied": true.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STATE_LOCK = threading.Lock()
STATE = {"scenario": "ok", "requests": []}
OPTS = None
ADDR = {}  # listener name -> "host:port"

ERROR_STATUSES = {"401", "403", "404", "429", "500"}
BIG_SIZE = 9 * 1024 * 1024
PAGES = 3
PER_PAGE = 2


def provider_of(path):
    if "/rest/api/3/project/search" in path:
        return "jira"
    if "/_apis/projects" in path:
        return "ado"
    if "/api/sn_ppm/workspace/space" in path:
        return "snow"
    if "/v1.0/sites" in path:
        return "graph"
    return None


def jira_item(n, base):
    return {
        "self": f"{base}/rest/api/3/project/{10000 + n}",
        "id": str(10000 + n),
        "key": f"PRJ{n}",
        "name": f"Jira Project {n}",
        "projectTypeKey": "software",
        "simplified": False,
        "style": "classic",
        "isPrivate": False,
    }


def ado_item(n):
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "name": f"ADO Project {n}",
        "description": f"ADO description {n}",
        "url": f"https://dev.azure.com/org/_apis/projects/{n}",
        "state": "wellFormed",
        "revision": 100 + n,
        "visibility": "private",
        "lastUpdateTime": "2024-01-01T00:00:00Z",
    }


def snow_item(n):
    return {
        "sys_id": f"{n:032x}",
        "name": f"SNOW Space {n}",
        "short_description": f"SNOW description {n}",
        "sys_created_on": "2024-01-01 00:00:00",
    }


def graph_item(n):
    return {
        "id": f"contoso.sharepoint.com,{n:08d}-aaaa-bbbb-cccc-000000000000,site{n}",
        "name": f"site{n}",
        "displayName": f"Site {n}",
        "webUrl": f"https://contoso.sharepoint.com/sites/site{n}",
        "description": f"Site description {n}",
        "createdDateTime": "2024-01-01T00:00:00Z",
    }


def ado_token(page):
    # characters that must be percent-encoded by the client
    return f"page{page}+/=token"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeUpstream/1.0"

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: without this, Nagle
        # plus delayed ACKs add ~40 ms to every keep-alive response
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, fmt, *args):  # keep test output quiet
        if OPTS.verbose:
            sys.stderr.write("fake: " + (fmt % args) + "\n")

    # ---- helpers ----
    def send_json(self, status, obj, extra_headers=None):
        body = json.dumps(obj).encode()
        self.send_bytes(status, body, "application/json", extra_headers)

    def send_bytes(self, status, body, ctype="application/json", extra_headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def listener(self):
        return self.server.listener_name

    # ---- dispatch ----
    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def do_DELETE(self):
        self.handle_any()

    def do_HEAD(self):
        self.handle_any()

    def handle_any(self):
        raw = self.path
        proxied = False
        if raw.startswith("http://") or raw.startswith("https://"):
            proxied = True
            u = urllib.parse.urlsplit(raw)
            raw = u.path + ("?" + u.query if u.query else "")
        split = urllib.parse.urlsplit(raw)
        path, query = split.path, split.query
        body = self.read_body()

        if path.startswith("/__") and self.listener() == "main":
            return self.control(path, body, proxied)

        scenario = None
        if path.startswith("/s/"):
            rest = path[3:]
            scenario, _, tail = rest.partition("/")
            path = "/" + tail
        with STATE_LOCK:
            if scenario is None:
                scenario = STATE["scenario"]
            prov = provider_of(path)
            STATE["requests"].append({
                "listener": self.listener(),
                "method": self.command,
                "path": self.path,
                "provider": prov,
                "scenario": scenario,
                "authorization": self.headers.get("Authorization"),
                "proxied": proxied,
                "peer_port": self.client_address[1],
            })

        if self.listener() == "other":
            # another host: answer something harmless; tests assert on records
            return self.send_json(200, {"value": [], "values": [], "isLast": True,
                                        "result": [], "note": "other host"})
        if prov is None:
            return self.send_json(404, {"error": "unknown path"})
        q = urllib.parse.parse_qs(query, keep_blank_values=True)
        self.serve_provider(prov, scenario, path, q)

    def control(self, path, body, proxied):
        if path == "/__health":
            return self.send_json(200, {"ok": True, "proxied": proxied})
        if path == "/__requests":
            with STATE_LOCK:
                reqs = list(STATE["requests"])
            return self.send_json(200, reqs)
        if path == "/__reset":
            with STATE_LOCK:
                STATE["requests"].clear()
                STATE["scenario"] = "ok"
            return self.send_json(200, {"ok": True})
        if path == "/__scenario" and self.command == "POST":
            text = body.decode("utf-8", "replace").strip()
            try:
                obj = json.loads(text)
                if isinstance(obj, dict):
                    text = str(obj.get("scenario", ""))
            except ValueError:
                pass
            if not text:
                return self.send_json(400, {"error": "no scenario"})
            with STATE_LOCK:
                STATE["scenario"] = text
            return self.send_json(200, {"scenario": text})
        if path == "/__echo":
            hdrs = {k.lower(): v for k, v in self.headers.items()}
            return self.send_json(200, {"method": self.command, "path": self.path,
                                        "headers": hdrs, "proxied": proxied,
                                        "body": body.decode("utf-8", "replace")})
        return self.send_json(404, {"error": "unknown control path"})

    # ---- scenarios ----
    def serve_provider(self, prov, scenario, path, q):
        if scenario in ERROR_STATUSES:
            return self.send_json(int(scenario), {"errorMessages": [f"fake {scenario}"]})
        if scenario == "malformed":
            return self.send_bytes(200, b'{"values": [{"id": "1", "name": ')
        if scenario == "wrongshape":
            return self.send_json(200, [{"id": "1", "name": "not in an object"}])
        if scenario == "noarray":
            return self.send_json(200, {"values": {"id": "1"}, "value": "x", "result": None,
                                        "isLast": True})
        if scenario == "baditems":
            item = {"title": "no id and no name"}
            return self.send_json(200, {"values": [item], "value": [item], "result": [item],
                                        "isLast": True})
        if scenario == "big":
            chunk = b" " * (1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(BIG_SIZE))
            self.end_headers()
            try:
                for _ in range(BIG_SIZE // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
            return
        if scenario == "bigchunked":
            chunk = b" " * (64 * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(BIG_SIZE // len(chunk)):
                    self.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            self.close_connection = True
            return
        if scenario == "stall":
            time.sleep(OPTS.stall_seconds)
            try:
                self.send_json(200, {"values": [], "isLast": True})
            except OSError:
                pass
            return
        if scenario == "cutoff":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"values": [' + b" " * 88)
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if scenario == "redirect":
            loc = f"http://{ADDR['other']}{self.path}"
            return self.send_bytes(302, b"", "text/plain", {"Location": loc})
        if scenario == "slowpages":
            time.sleep(OPTS.page_delay)
        getattr(self, "serve_" + prov)(scenario, path, q)

    def base(self, path, marker):
        """The URL prefix before the provider route, as seen by the client."""
        i = path.find(marker)
        prefix = path[:i] if i >= 0 else ""
        full = self.path
        if full.startswith("/s/"):
            prefix = "/s/" + full[3:].partition("/")[0] + prefix
        return f"http://{ADDR['main']}{prefix}"

    def serve_jira(self, scenario, path, q):
        start = int((q.get("startAt") or ["0"])[0] or 0)
        max_results = int((q.get("maxResults") or ["50"])[0] or 50)
        base = self.base(path, "/rest/api/3/project/search")
        size = min(PER_PAGE, max_results)
        total = PAGES * PER_PAGE
        if scenario == "empty":
            items, is_last, total = [], True, 0
        elif scenario == "loop":
            items, is_last, total = [jira_item(start + 1, base)], False, start + 1000
        else:
            items = [jira_item(n + 1, base) for n in range(start, min(start + size, total))]
            is_last = start + size >= total
            if scenario == "nextother":
                is_last = False
        body = {"self": f"{base}/rest/api/3/project/search?startAt={start}",
                "maxResults": max_results, "startAt": start, "total": total,
                "isLast": is_last, "values": items}
        if not is_last:
            host = ADDR["other"] if scenario == "nextother" else ADDR["main"]
            body["nextPage"] = (f"http://{host}/rest/api/3/project/search"
                                f"?startAt={start + len(items)}&maxResults={max_results}")
        if scenario == "nextother" and start > 0:
            body["isLast"] = True
            body.pop("nextPage", None)
        self.send_json(200, body)

    def serve_ado(self, scenario, path, q):
        if (q.get("api-version") or [""])[0] != "7.0":
            return self.send_json(400, {"message": "api-version 7.0 expected"})
        tok = (q.get("continuationToken") or [None])[0]
        if tok is None:
            page = 0
        else:
            if not tok.startswith("page") or not tok.endswith("+/=token"):
                return self.send_json(400, {"message": f"bad continuation token {tok!r}"})
            page = int(tok[4:-len("+/=token")])
        headers = {}
        if scenario == "empty":
            items = []
        elif scenario == "loop":
            items = [ado_item(page + 1)]
            headers["x-ms-continuationtoken"] = ado_token(page + 1)
        else:
            items = [ado_item(page * PER_PAGE + i + 1) for i in range(PER_PAGE)]
            if page + 1 < PAGES:
                headers["x-ms-continuationtoken"] = ado_token(page + 1)
        self.send_json(200, {"count": len(items), "value": items}, headers)

    def serve_snow(self, scenario, path, q):
        items = [] if scenario == "empty" else [snow_item(n + 1) for n in range(3)]
        self.send_json(200, {"result": items})

    def serve_graph(self, scenario, path, q):
        if (q.get("search") or [""])[0] != "*":
            return self.send_json(400, {"error": {"code": "BadRequest"}})
        page = int((q.get("$skiptoken") or ["0"])[0] or 0)
        base = self.base(path, "/v1.0/sites")
        body = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#sites"}
        if scenario == "empty":
            body["value"] = []
            return self.send_json(200, body)
        if scenario == "loop":
            body["value"] = [graph_item(page + 1)]
            body["@odata.nextLink"] = f"{base}/v1.0/sites?search=*&$skiptoken={page + 1}"
            return self.send_json(200, body)
        body["value"] = [graph_item(page * PER_PAGE + i + 1) for i in range(PER_PAGE)]
        if scenario == "nextother":
            body["@odata.nextLink"] = (f"http://{ADDR['other']}/v1.0/sites"
                                       f"?search=*&$skiptoken={page + 1}")
        elif page + 1 < PAGES:
            body["@odata.nextLink"] = f"{base}/v1.0/sites?search=*&$skiptoken={page + 1}"
        self.send_json(200, body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, name):
        self.listener_name = name
        super().__init__(addr, Handler)


def bind(host, port, name):
    try:
        return Server((host, port), name)
    except OSError:
        if port == 0:
            raise
        return Server((host, 0), name)


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    global OPTS
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--other-host", default="127.0.0.2")
    ap.add_argument("--port-file", help="written with the main port once listening")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-port-file", help="written with the TLS port once listening")
    ap.add_argument("--stall-seconds", type=float, default=30.0)
    ap.add_argument("--page-delay", type=float, default=0.6)
    ap.add_argument("--scenario", default="ok", help="initial global scenario")
    ap.add_argument("--verbose", action="store_true")
    OPTS = ap.parse_args()
    STATE["scenario"] = OPTS.scenario

    main_srv = Server((OPTS.host, OPTS.port), "main")
    port = main_srv.server_address[1]
    other_srv = bind(OPTS.other_host, port, "other")
    ADDR["main"] = f"{OPTS.host}:{port}"
    ADDR["other"] = f"{OPTS.other_host}:{other_srv.server_address[1]}"
    servers = [main_srv, other_srv]
    tls_srv = None
    if OPTS.tls_cert:
        tls_srv = Server((OPTS.host, 0), "tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(OPTS.tls_cert, OPTS.tls_key)
        tls_srv.socket = ctx.wrap_socket(tls_srv.socket, server_side=True)
        servers.append(tls_srv)
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    if tls_srv and OPTS.tls_port_file:
        write_atomic(OPTS.tls_port_file, f"{tls_srv.server_address[1]}\n")
    if OPTS.port_file:
        write_atomic(OPTS.port_file, f"{port}\n")
    sys.stderr.write(f"fake upstream listening on {ADDR['main']} (other {ADDR['other']})\n")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
