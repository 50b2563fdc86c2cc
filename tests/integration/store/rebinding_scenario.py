"""DNS rebinding against the HTTP store, run inside a fresh network namespace.

``test_http_rebinding.py`` starts it with ``unshare --net`` (as root), so it
may put global addresses on its own loopback: 11.0.0.1 and 11.0.0.2 are "the
internet", 127.0.0.1 is "the internal network".  The resolver is the one fault
simulated: ``socket.getaddrinfo`` answers a global address for the first lookup
of each test name and 127.0.0.1 for every later one.  Every server records who
connected, the Host header and the TLS server name; the script prints one JSON
document with the outcome of each case.

usage: rebinding_scenario.py WORKDIR   (the CA and certificates are made there)
"""
import http.server
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "app"))

from glance.store.http import HTTPStore  # noqa: E402

SEEN = []          # (server, host header, path)
SNI = []           # (server, server name)
FIRST = {"a.example.test": "11.0.0.1", "b.example.test": "11.0.0.2",
         "r.example.test": "11.0.0.1", "s.example.test": "11.0.0.1",
         "h.example.test": "11.0.0.1", "w.example.test": "11.0.0.2"}
LOOKUPS = {}
real_getaddrinfo = socket.getaddrinfo


def rebinding_getaddrinfo(host, port, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name not in FIRST:
        return real_getaddrinfo(host, port, *args, **kwargs)
    LOOKUPS[name] = LOOKUPS.get(name, 0) + 1
    address = FIRST[name] if LOOKUPS[name] == 1 else "127.0.0.1"
    return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 80))]


def handler(label, body):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_HEAD(self):
            self.do_GET(send=False)

        def do_GET(self, send=True):
            SEEN.append((label, self.headers.get("Host"), self.path))
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://b.example.test/image")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send:
                self.wfile.write(body)

        def log_message(self, *args):
            pass
    return Handler


def serve(label, address, port, body, cert=None):
    httpd = http.server.ThreadingHTTPServer((address, port), handler(label, body))
    httpd.daemon_threads = True
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert)
        context.sni_callback = lambda sock, name, ctx: SNI.append((label, name))
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()


def make_certs(workdir):
    """A CA, and a key+certificate file per name it signs."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=workdir, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
        "-days", "2", "-subj", "/CN=glance test CA")
    for name in ("s.example.test", "other.example.test"):
        with open(os.path.join(workdir, f"{name}.ext"), "w") as ext:
            ext.write(f"subjectAltName=DNS:{name}\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
            f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext")
        with open(os.path.join(workdir, f"{name}.pem"), "w") as pem:
            for part in (f"{name}.crt", f"{name}.key"):
                pem.write(open(os.path.join(workdir, part)).read())
    return os.path.join(workdir, "ca.pem")


def case(store, method, url):
    before = len(SEEN)
    try:
        if method == "get":
            chunks, size = store.get(url)
            outcome = {"data": b"".join(chunks).decode(), "size": size}
        else:
            outcome = {"size": store.get_size(url)}
    except Exception as exc:      # reported, the test decides
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    outcome["seen"] = SEEN[before:]
    return outcome


def main(workdir):
    for address in ("11.0.0.1/32", "11.0.0.2/32"):
        subprocess.run(["ip", "addr", "add", address, "dev", "lo"], check=True)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    ca = make_certs(workdir)
    serve("public-1", "11.0.0.1", 80, b"public image one")
    serve("public-2", "11.0.0.2", 80, b"public image two")
    serve("internal", "127.0.0.1", 80, b"INTERNAL SECRET")
    serve("public-tls", "11.0.0.1", 443, b"public tls image",
          cert=os.path.join(workdir, "s.example.test.pem"))
    serve("wrong-name-tls", "11.0.0.2", 443, b"wrong name",
          cert=os.path.join(workdir, "other.example.test.pem"))
    serve("internal-tls", "127.0.0.1", 443, b"INTERNAL SECRET",
          cert=os.path.join(workdir, "s.example.test.pem"))
    socket.getaddrinfo = rebinding_getaddrinfo
    store = HTTPStore(allow_private=False, timeout=10, transfer_timeout=60, ca_file=ca)
    results = {
        "get": case(store, "get", "http://a.example.test/image"),
        "head": case(store, "get_size", "http://h.example.test:80/image"),
        "redirect": case(store, "get", "http://r.example.test/redirect"),
        "https": case(store, "get", "https://s.example.test/image"),
        "https_wrong_name": case(store, "get", "https://w.example.test/image"),
    }
    results["sni"] = SNI
    results["lookups"] = LOOKUPS
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1])
