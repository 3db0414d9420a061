"""A minimal reverse proxy for tests: ``python tiny_proxy.py LISTEN_PORT UPSTREAM_PORT``.

It does what nginx's ``proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`` does:
appends the connecting client's address to ``X-Forwarded-For`` (keeping whatever the
client sent before it), sets ``X-Forwarded-Proto`` to the scheme the client used, and
relays the request and the answer (every ``Set-Cookie`` kept) without following redirects.
Listens on 0.0.0.0 so clients can
connect from several loopback addresses (127.0.0.2, 127.0.0.3, ...).
"""

from __future__ import annotations

import http.client
import sys
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection"}


def handler_for(upstream_port: int) -> type[BaseHTTPRequestHandler]:
    class Relay(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            del format, args

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            prior = self.headers.get("X-Forwarded-For")
            peer = self.client_address[0]
            headers["X-Forwarded-For"] = f"{prior}, {peer}" if prior else peer
            headers["X-Forwarded-Proto"] = "http"  # what the client spoke to us
            upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
            try:
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status, answer.reason)
                for key, value in answer.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                upstream.close()

        do_GET = do_POST = do_HEAD = _relay

    return Relay


def main() -> None:
    listen, upstream = int(sys.argv[1]), int(sys.argv[2])
    server = ThreadingHTTPServer(("0.0.0.0", listen), handler_for(upstream))  # noqa: S104
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
