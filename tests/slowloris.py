"""Slow clients for the tests and the benchmark: connections that trickle
header bytes or sit idle, and a watch on when each one is closed."""
import socket
import threading
import time

REQUEST = b"GET /v1/images HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"s" * 10000


class SlowClients:
    """``count`` connections to ``port``: even ones trickle a header byte every
    ``interval`` seconds, odd ones send nothing.  Each records when the server
    closed it and what it answered."""

    head = b""          # sent whole when a connection opens

    def __init__(self, port, count=64, interval=0.5):
        self.port, self.count, self.interval = port, count, interval
        self.socks, self.closed_after, self.answers = [], {}, {}
        self.stop = threading.Event()
        self.started = None
        self.threads = []

    def trickled(self, n):
        """What connection ``n`` sends a byte at a time (b"": it sits idle)."""
        return REQUEST if n % 2 == 0 else b""

    def __enter__(self):
        self.started = time.monotonic()
        for n in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            if self.head:
                sock.sendall(self.head)
            self.socks.append(sock)
            thread = threading.Thread(target=self._run, args=(n, sock), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def _run(self, n, sock):
        sock.settimeout(self.interval)
        sent, answer, trickle = 0, b"", self.trickled(n)
        while not self.stop.is_set():
            try:
                data = sock.recv(4096)
                if not data:
                    break
                answer += data
            except socket.timeout:
                pass
            except OSError:
                break
            if sent < len(trickle):
                try:
                    sock.send(trickle[sent:sent + 1])
                    sent += 1
                except OSError:
                    break
        else:
            return
        self.closed_after[n] = time.monotonic() - self.started
        self.answers[n] = answer

    def wait_closed(self, timeout):
        """True when the server closed every connection within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.closed_after) < self.count:
            time.sleep(0.1)
        return len(self.closed_after) == self.count

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(5)
        for sock in self.socks:
            sock.close()


class SlowBodies(SlowClients):
    """``count`` connections to ``port`` that send a whole request head (``method``
    ``path`` with ``headers`` and the length of ``body``), then trickle ``body`` one byte
    every ``interval`` seconds.  Each records what the server answered and when it
    closed the connection (``closed_after``, seconds from the start)."""

    def __init__(self, port, method, path, headers, body, count=16, interval=0.5):
        super().__init__(port, count, interval)
        self.body = body
        head = [f"{method} {path} HTTP/1.1", "Host: slow", f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        self.head = ("\r\n".join(head) + "\r\n\r\n").encode()

    def trickled(self, n):
        return self.body
