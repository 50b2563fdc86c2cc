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


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, plus: ``Connection: close`` from the app closes.

    Without this, cheroot reads whatever is left of a refused upload (in one
    read, into memory) to keep the connection alive.
    """

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


def main(argv=None):
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
