"""apt-proxy.py ADDR PORT: a small forwarding HTTP proxy (GET and HEAD of absolute http://
URLs) through which test containers on a private bridge reach the Debian mirror of the
host's apt sources. Test transport only; started and stopped by tests/tools/hostnet.sh.
(apt-cacher-ng 3.7.4 does not start on these hosts: "Error resolving address for binding".)
"""
import http.client
import http.server
import shutil
import sys
import urllib.parse

# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.forward()

    def do_HEAD(self):
        self.forward()

    def forward(self):
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "absolute http:// URLs only")
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        upstream = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=60)
        try:
            upstream.request(self.command, (url.path or "/") + (f"?{url.query}" if url.query else ""),
                             headers=headers)
            resp = upstream.getresponse()
            self.send_response(resp.status, resp.reason)
            for key, value in resp.getheaders():
                if key.lower() not in HOP_BY_HOP:
                    self.send_header(key, value)
            if resp.getheader("Content-Length") is None and self.command != "HEAD":
                self.send_header("Connection", "close")   # the body ends with the connection
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(resp, self.wfile, 65536)
        except OSError as exc:
            self.log_error("%s: %s", self.path, exc)
            self.close_connection = True
        finally:
            upstream.close()


def main(addr, port):
    server = http.server.ThreadingHTTPServer((addr, int(port)), Proxy)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:3])
