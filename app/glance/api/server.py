"""The HTTP server of glance-api: cheroot, with shortcuts for image data.

cheroot rather than waitress: it hands the request body to the application
as it arrives (waitress spools it first) and keeps header names with
underscores, which python-glanceclient sends (``x-image-meta-disk_format``).
"""
from cheroot import server, wsgi

from glance.api.gate import Gate, Replay

DIRECT_WRITE = 65536


class SocketBody:
    """glance-api's ``wsgi.input`` for a known-length body: read straight from the socket.

    cheroot's own ``wsgi.input`` goes through the pure-Python ``_pyio``
    buffered reader, which copies every byte three or four times; uploads
    run at about half speed through it.  This reads what cheroot has already
    buffered, then ``recv`` from the socket, and keeps cheroot's count of
    the bytes left (``remaining``) right so keep-alive still works.

    ``read(n)`` has file semantics (n bytes unless the body ends first);
    ``read1(n)`` returns whatever has arrived, up to n bytes (as
    :class:`io.BufferedReader`'s does), which is what an upload wants.
    """

    def __init__(self, req):
        self.buffered = req.conn.rfile
        self.sock = req.conn.socket
        self.counted = req.rfile

    def read1(self, size=-1):
        """Up to ``size`` bytes (fewer if that is what arrived); ``b""`` at the end."""
        left = self.counted.remaining
        size = left if size is None or size < 0 else min(size, left)
        if size <= 0:
            return b""
        if self.buffered.has_data():
            data = self.buffered.read1(size)
        else:
            data = self.sock.recv(size)
        self.counted.remaining -= len(data)
        return data

    def read(self, size=-1):
        """``size`` bytes, or the rest of the body (all of it when ``size`` is -1)."""
        parts, wanted = [], self.counted.remaining if size is None or size < 0 else size
        while wanted > 0:
            data = self.read1(wanted)
            if not data:
                break
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)

    def readline(self, size=-1):
        return self.counted.readline(None if size is None or size < 0 else size)

    def readlines(self, hint=-1):
        return self.counted.readlines(hint if hint and hint > 0 else 0)

    def __iter__(self):
        return iter(self.readline, b"")


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus three things for image data.

    * ``wsgi.input`` of a known-length body is a :class:`SocketBody`: it reads
      from the socket without cheroot's copies, and offers ``read1``.
    * Large response chunks go to the socket with ``sendall``: cheroot's
      writer copies each chunk twice more before sending it.
    * ``Connection: close`` from the app closes the connection.  Without it,
      cheroot reads whatever is left of a refused upload (in one read, into
      memory) to keep the connection alive.
    """

    def write(self, chunk):
        req, left = self.req, self.remaining_bytes_out
        if (len(chunk) >= DIRECT_WRITE and req.sent_headers and not req.chunked_write
                and (left is None or len(chunk) <= left)):
            req.conn.socket.sendall(chunk)
            if left is not None:
                self.remaining_bytes_out = left - len(chunk)
            return
        super().write(chunk)

    def get_environ(self):
        env = super().get_environ()
        req = self.req
        if (not req.chunked_read and hasattr(req.rfile, "remaining")
                and hasattr(req.conn.rfile, "has_data")):
            env["wsgi.input"] = SocketBody(req)
        return env

    def start_response(self, status, headers, exc_info=None):
        if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


class Connection(server.HTTPConnection):
    """A cheroot connection that reads through the gate's :class:`~glance.api.gate.Replay`
    and is counted against ``max_connections``."""

    def __init__(self, http_server, sock, makefile=server.MakeFile):
        super().__init__(http_server, sock, makefile)
        self.rfile.close()
        self.replay = Replay(sock)
        self.rfile = makefile(self.replay, "rb", self.rbufsize)
        self.fresh = True
        self.counted = True
        self.admitted = http_server.gate.opened()

    def close(self):
        try:
            super().close()
        finally:
            if self.counted:
                self.counted = False
                self.server.gate.closed()


class Server(wsgi.Server):
    """cheroot's WSGI server with the :class:`~glance.api.gate.Gate` in front of its workers."""

    ConnectionClass = Connection

    def __init__(self, *args, gate_options, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = Gate(super().process_conn, **gate_options)

    def prepare(self):
        super().prepare()
        self.gate.start()

    def process_conn(self, conn):
        fresh, conn.fresh = conn.fresh, False
        self.gate.add(conn, fresh)

    def stop(self):
        self.gate.stop()
        super().stop()


def make_server(conf, app):
    """A cheroot server for ``app`` configured from ``conf`` (not started)."""
    gate_options = {"header_timeout": conf.header_timeout, "io_timeout": conf.body_timeout,
                    "max_header_size": conf.max_header_size,
                    "max_connections": conf.max_connections}
    http_server = Server((conf.bind_host, conf.bind_port), app,
                         numthreads=conf.server_threads, timeout=conf.server_timeout,
                         shutdown_timeout=conf.shutdown_timeout, request_queue_size=128,
                         server_name="glance-api", gate_options=gate_options)
    http_server.max_request_header_size = conf.max_header_size
    http_server.gateway = Gateway
    return http_server
