"""glance-api: serve the v1 image API with cheroot (see :mod:`glance.api.server`).

SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and sets up logging again; connections stay up.
"""
import logging
import signal
import threading

from glance import config, options as opts
from glance.api.server import make_server
from glance.cmd.common import fail, start
from glance.log import setup_logging
from glance.wsgi import RequestLog

PROGRAM = opts.API
LOG = logging.getLogger("glance.api.server")


def build_parser():
    parser = config.build_parser(PROGRAM, "Serve the Glance v1 image API.")
    parser.add_argument("config", nargs="?", metavar="CONFIG_FILE",
                        help="Configuration file (same as --config-file).")
    return parser


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
