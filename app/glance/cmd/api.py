"""glance-api: serve the v1 image API with cheroot (see :mod:`glance.api.server`).

SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and applies every option but ``bind_host``, ``bind_port``
and ``server_threads`` (which need a restart); connections stay up.
"""
import logging
import threading
import time

from glance import config, options as opts
from glance.api.server import make_server
from glance.cmd.common import Signals, fail, server_parser, start
from glance.wsgi import RequestLog

PROGRAM = opts.API
LOG = logging.getLogger("glance.api.server")


class Runner(Signals):
    """Serve in a thread; handle signals in the main thread."""

    def __init__(self, server, conf, args, app=None):
        super().__init__(PROGRAM, conf, args, LOG)
        self.server = server
        self.app = app

    def apply(self, conf):
        """New registry client, stores and options for the app; new timeouts for cheroot."""
        if self.app is not None:
            from glance.api import reconfigure
            reconfigure(self.app, conf)
        self.server.timeout = conf.server_timeout
        self.server.shutdown_timeout = conf.shutdown_timeout

    def run(self):
        self.install()
        serving = threading.Thread(target=self.server.serve, name="cheroot", daemon=True)
        serving.start()
        while not self.stop_requested:
            time.sleep(0.2)
            self.reload_if_requested()
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
    parser = server_parser(PROGRAM, "Serve the Glance v1 image API.")
    conf, args = start(PROGRAM, argv, parser, positional="config")
    from glance.api import create_app
    from glance.api.recovery import start_recovery
    try:
        flask_app = create_app(conf)
    except config.ConfigError as exc:
        fail(str(exc))
    runner = Runner(None, conf, args, flask_app)
    runner.install()    # before listening: an early SIGHUP is a reload, not the default exit
    runner.server = make_server(conf, RequestLog(flask_app, "glance.api"))
    try:
        runner.server.prepare()
    except OSError as exc:
        fail(f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}")
    LOG.info("Starting %s on %s:%s", PROGRAM, conf.bind_host, conf.bind_port)
    start_recovery(flask_app)
    try:
        status = runner.run()
    finally:
        flask_app.extensions["glance"]["notifier"].close()
    raise SystemExit(status)


if __name__ == "__main__":
    main()
