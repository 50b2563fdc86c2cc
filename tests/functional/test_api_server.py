"""The glance-api process: cheroot, SIGTERM with requests in flight, SIGHUP reload."""
import re
import signal
import socket
import time

import requests

from servers import wait_for, write_conf


def test_sigterm_lets_an_upload_in_flight_finish_and_exits_0(start_api):
    server = start_api(shutdown_timeout="20")
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    size = 4 * 1024 * 1024
    sock.sendall((f"POST /v1/images HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
                  "Content-Type: application/octet-stream\r\nx-image-meta-name: inflight\r\n"
                  "\r\n").encode())
    sock.sendall(b"a" * (size // 2))
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    sock.sendall(b"a" * (size // 2))
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    assert server.proc.wait(20) == 0
    # No longer listening.
    try:
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
        listening = True
    except OSError:
        listening = False
    assert not listening


def _chunked_upload(sock, trailer=b""):
    """A chunked v1 POST on ``sock``; the head of its answer."""
    data = b"x" * 4096
    sock.sendall(b"POST /v1/images HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: application/octet-stream\r\nx-image-meta-name: chunked\r\n"
                 b"x-image-meta-disk_format: raw\r\nx-image-meta-container_format: bare\r\n"
                 b"\r\n%x\r\n%s\r\n0\r\n%s\r\n" % (len(data), data, trailer))
    return _answer(sock)


def _answer(sock):
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_a_chunked_upload_with_trailers_keeps_its_connection(start_api):
    server = start_api()
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        assert _chunked_upload(sock, trailer=b"X-Checksum: none\r\n").startswith(b"HTTP/1.1 201")
        sock.sendall(b"GET /v1/images HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")


def test_sigterm_does_not_wait_for_a_client_idle_after_a_chunked_upload(start_api):
    """The CRLF after a chunked body's last chunk, left unread, held a worker thread on
    the idle kept-alive connection, and SIGTERM waited for it (shutdown_timeout)."""
    server = start_api(shutdown_timeout="30")
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
        assert _chunked_upload(sock).startswith(b"HTTP/1.1 201")
        time.sleep(0.5)           # idle, kept alive
        started = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(20) == 0
        assert time.monotonic() - started < 5


def test_sighup_rereads_logging_settings_without_dropping_connections(start_api):
    server = start_api(log_file="api.log", verbose="false")
    log_path = f"{server.workdir}/api.log"
    session = requests.Session()
    assert session.get(server.url + "/v1/images", timeout=10).status_code == 200
    with open(log_path) as handle:
        assert "GET /v1/images" not in handle.read()     # INFO lines are off
    write_conf(server.conf, {**server.options, "log_file": "api.log", "verbose": "true"})
    server.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    text = ""
    # Each worker logs its own reload; the parent's "(N workers)" line comes once all have
    # switched, and only then does every worker log requests at INFO.
    done = re.compile(rf"Reloaded configuration from {re.escape(server.conf)} \(\d+ workers\)")
    while time.monotonic() < deadline and not done.search(text):
        time.sleep(0.1)
        with open(log_path) as handle:
            text = handle.read()
    assert done.search(text), text[-2000:]
    # The same keep-alive connection still works, and requests are now logged.
    assert session.get(server.url + "/v1/images", timeout=10).status_code == 200
    session.close()

    def logged():       # the line is written after the answer: a fixed pause raced it
        with open(log_path) as handle:
            return "GET /v1/images 200" in handle.read()
    assert wait_for(logged, 10)
    assert server.proc.poll() is None
