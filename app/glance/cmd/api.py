"""glance-api: serve the v1 image API with cheroot.

cheroot rather than waitress: it hands the request body to the application
as it arrives (waitress spools it first) and keeps header names with
underscores, which python-glanceclient sends (``x-image-meta-disk_format``).

SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and sets up logging again; connections stay up.
"""
import logging
import signal
import threading

from cheroot import wsgi

from glance import config, options as opts
from glance.cmd.common import fail, start
from glance.log import setup_logging
from glance.wsgi import RequestLog

PROGRAM = opts.API
LOG = logging.getLogger("glance.api.server")
DIRECT_WRITE = 65536


class SocketBody:
    """A known-length request body read straight from the connection's socket.

    cheroot's own ``wsgi.input`` goes through the pure-Python ``_pyio``
    buffered reader, which copies every byte three or four times; uploads
    run at about half speed through it.  This reads what cheroot has already
    buffered, then ``recv`` from the socket, and keeps cheroot's count of
    the bytes left (``remaining``) right so keep-alive still works.
    """

    def __init__(self, req):
        self.buffered = req.conn.rfile
        self.sock = req.conn.socket
        self.counted = req.rfile

    def read(self, size):
        """Up to ``size`` bytes (fewer if that is what arrived); ``b""`` at the end."""
        size = min(size, self.counted.remaining)
        if size <= 0:
            return b""
        if self.buffered.has_data():
            data = self.buffered.read1(size)
        else:
            data = self.sock.recv(size)
        self.counted.remaining -= len(data)
        return data


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus three things for image data.

    * ``environ["glance.socket_body"]``: a fast reader of a known-length body
      (see :class:`SocketBody`).
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
            env["glance.socket_body"] = SocketBody(req)
        return env

    def start_response(self, status, headers, exc_info=None):
        if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
            self.req.close_connection = True
        return super().start_response(status, headers, exc_info)


def build_parser():
    parser = config.build_parser(PROGRAM, "Serve the Glance v1 image API.")
    parser.add_argument("config", nargs="?", metavar="CONFIG_FILE",
                        help="Configuration file (same as --config-file).")
    return parser


def make_server(conf, app):
    """A cheroot server for ``app`` configured from ``conf`` (not started)."""
    server = wsgi.Server((conf.bind_host, conf.bind_port), app,
                         numthreads=conf.server_threads, timeout=conf.server_timeout,
                         shutdown_timeout=conf.shutdown_timeout, request_queue_size=128,
                         server_name="glance-api")
    server.gateway = Gateway
    return server


class Runner:
    """Serve in a thread; handle signals in the main thread."""

    def __init__(self, server, conf, overrides):
        self.server, self.conf, self.overrides = server, conf, overrides
        self.stop_requested = threading.Event()
        self.reload_requested = False

    def request_stop(self, _signum, _frame):
        self.stop_requested.set()

    def request_reload(self, _signum, _frame):
        self.reload_requested = True

    def reload(self):
        self.reload_requested = False
        try:
            conf = config.load_config(PROGRAM, self.conf.path, self.overrides)
            setup_logging(conf)
        except config.ConfigError as exc:
            LOG.error("Reload failed, keeping the old settings: %s", exc)
            return
        self.conf = conf
        LOG.info("Reloaded configuration from %s", conf.path)

    def run(self):
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        serving = threading.Thread(target=self.server.serve, name="cheroot", daemon=True)
        serving.start()
        while not self.stop_requested.wait(0.2):
            if self.reload_requested:
                self.reload()
            if not serving.is_alive():
                LOG.error("The HTTP server stopped unexpectedly")
                return 1
        LOG.info("Stopping: finishing requests in flight")
        self.server.stop()
        serving.join(5)
        LOG.info("Stopped")
        return 0


def limit_malloc_arenas(count=2):
    """Cap glibc's per-thread malloc arenas.

    Upload and download threads pass 1 MiB buffers between them; with an
    arena per thread, freed buffers pile up in each and RSS creeps upwards.
    """
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-8, count)      # M_ARENA_MAX
    except (OSError, AttributeError):
        pass                          # not glibc: nothing to tune


def main(argv=None):
    limit_malloc_arenas()
    parser = build_parser()
    conf, args = start(PROGRAM, argv, parser, positional="config")
    overrides = {opt.name: getattr(args, opt.name, None) for opt in opts.options_for(PROGRAM)}
    from glance.api import create_app
    app = RequestLog(create_app(conf), "glance.api")
    server = make_server(conf, app)
    try:
        server.prepare()
    except OSError as exc:
        fail(f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}")
    LOG.info("Starting %s on %s:%s", PROGRAM, conf.bind_host, conf.bind_port)
    status = Runner(server, conf, overrides).run()
    raise SystemExit(status)


if __name__ == "__main__":
    main()
