"""Keep slow clients from holding glance-api's worker threads.

cheroot gives a connection to a worker thread as soon as it is accepted (or,
between requests, as soon as it is readable), and the worker then blocks until
the request line and headers have arrived.  Sixteen clients that connect and
send nothing, or trickle a header byte now and then, would hold all sixteen
workers, and every other client would wait.

The gate does that waiting instead, for all connections in one thread: it
watches them with edge-triggered epoll, takes the header bytes as they come
(never more: the body stays in the socket for the upload path), and hands the
connection to the workers only once the blank line that ends the headers is
there.  cheroot then parses the taken bytes as if it had read them itself (see
:class:`Replay`).  A connection whose headers are not complete within
``header_timeout`` gets ``408`` and is closed; one over ``max_connections``
gets ``503``; headers larger than ``max_header_size`` go to cheroot, which
answers ``413``.
"""
import logging
import re
import select
import socket
import threading
import time

LOG = logging.getLogger("glance.api.server")

HEADERS_END = re.compile(rb"\n\r?\n")
WATCH = select.EPOLLIN | select.EPOLLRDHUP | select.EPOLLET if hasattr(select, "epoll") else 0
TICK = 0.5      # longest sleep of the gate thread


class Replay:
    """A socket whose first reads return header bytes the gate already took.

    cheroot reads a connection through ``socket.SocketIO(sock)``, which only
    calls ``recv_into``; everything else goes to the real socket.
    """

    def __init__(self, sock):
        self.sock = sock
        self.pending = bytearray()

    def recv_into(self, buffer, nbytes=0, flags=0):
        if self.pending:
            size = min(len(self.pending), nbytes or len(buffer), len(buffer))
            buffer[:size] = self.pending[:size]
            del self.pending[:size]
            return size
        return self.sock.recv_into(buffer, nbytes, flags)

    def __getattr__(self, name):
        return getattr(self.sock, name)


def answer(sock, status, message):
    """Send a short error answer without waiting; a full socket just misses it."""
    body = message.encode() + b"\n"
    head = (f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}"
            "\r\nConnection: close\r\n\r\n").encode()
    try:
        sock.settimeout(0)
        sock.send(head + body)
    except OSError:
        pass


class Gate:
    """Hold connections until their headers have arrived, then ``dispatch`` them.

    :param dispatch: gives a connection to the worker threads.
    :param header_timeout: seconds a connection has to complete its headers.
    :param io_timeout: socket timeout set when a connection goes to a worker
        (the body timeout).
    :param max_header_size: header bytes taken at most before cheroot is left
        to refuse the request.
    :param max_connections: open connections at most; a new one over it gets 503.
    """

    def __init__(self, dispatch, *, header_timeout, io_timeout, max_header_size,
                 max_connections):
        self.dispatch = dispatch
        self.header_timeout = header_timeout
        self.io_timeout = io_timeout
        self.max_header_size = max_header_size or 1 << 20
        self.max_connections = max_connections
        self.epoll = select.epoll()
        self.lock = threading.Lock()
        self.waiting = {}           # fd -> (connection, deadline)
        self.open = 0               # connections accepted and not yet closed
        self.stopped = False
        self.thread = threading.Thread(target=self.run, name="header-gate", daemon=True)

    def start(self):
        self.thread.start()

    def opened(self):
        """Count a new connection; False when that makes too many."""
        with self.lock:
            self.open += 1
            return self.max_connections <= 0 or self.open <= self.max_connections

    def closed(self):
        with self.lock:
            self.open -= 1

    def add(self, conn, fresh):
        """Take ``conn`` (just accepted, or readable between requests)."""
        if fresh and not conn.admitted:
            answer(conn.socket, "503 Service Unavailable",
                   f"Too many connections (at most {self.max_connections}); try again later")
            conn.close()
            return
        if conn.rfile.has_data():            # a pipelined request already read
            self._release(conn)
            return
        conn.socket.settimeout(0)
        state = self._take(conn)
        if state != "wait":
            self._finish(conn, state)
            return
        fd = conn.socket.fileno()
        with self.lock:
            stopped = self.stopped
            if not stopped:
                self.waiting[fd] = (conn, time.monotonic() + self.header_timeout)
                self.epoll.register(fd, WATCH)
        if stopped:
            conn.close()      # outside the lock: closing counts the connection out under it

    def _take(self, conn):
        """Move what arrived of the headers into ``conn.replay``.

        :returns: ``"ready"`` (headers complete, too large, or the client
            stopped sending), ``"wait"`` or ``"closed"`` (nothing to answer).
        """
        pending = conn.replay.pending
        try:
            peeked = conn.socket.recv(self.max_header_size + 1 - len(pending), socket.MSG_PEEK)
        except BlockingIOError:
            return "wait"
        except OSError:
            return "closed"
        if not peeked:
            return "ready" if pending else "closed"
        joined = pending + peeked
        first = len(joined) - len(joined.lstrip(b"\r\n"))
        found = HEADERS_END.search(joined, max(first, len(pending) - 3))
        want = (found.end() if found else len(joined)) - len(pending)
        try:
            while want > 0:
                data = conn.socket.recv(want)
                if not data:
                    break
                pending += data
                want -= len(data)
        except OSError:
            return "closed"
        if found or len(pending) > self.max_header_size:
            return "ready"
        return "wait"

    def _finish(self, conn, state):
        if state == "ready":
            self._release(conn)
        elif state == "late":
            answer(conn.socket, "408 Request Timeout",
                   f"Request headers not received within {self.header_timeout} seconds")
            conn.close()
        else:
            conn.close()

    def _release(self, conn):
        conn.socket.settimeout(self.io_timeout)
        self.dispatch(conn)

    def _remove(self, fd):
        with self.lock:
            entry = self.waiting.pop(fd, None)
            if entry is not None:
                self.epoll.unregister(fd)
        return entry

    def run(self):
        while not self.stopped:
            try:
                self._turn()
            except Exception:     # the gate must outlive any one connection's trouble
                LOG.exception("Header gate error")

    def _turn(self):
        """Close connections past their deadline, then take what arrived."""
        now = time.monotonic()
        with self.lock:
            late = [fd for fd, (_, deadline) in self.waiting.items() if deadline <= now]
            soonest = min((d for _, d in self.waiting.values()), default=now + TICK)
        for fd in late:
            entry = self._remove(fd)
            if entry is not None:
                self._finish(entry[0], "late")
        try:
            events = self.epoll.poll(max(0.01, min(TICK, soonest - now)))
        except OSError:
            return
        for fd, _mask in events:
            with self.lock:
                entry = self.waiting.get(fd)
            if entry is None:
                continue
            state = self._take(entry[0])
            if state != "wait" and self._remove(fd) is not None:
                self._finish(entry[0], state)

    def stop(self):
        """Close every connection still waiting for its headers."""
        with self.lock:
            self.stopped = True
            entries = list(self.waiting.values())
            for fd in self.waiting:
                self.epoll.unregister(fd)
            self.waiting.clear()
        for conn, _ in entries:
            conn.close()
        self.thread.join(TICK * 4)
        self.epoll.close()
