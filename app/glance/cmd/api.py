"""glance-api: serve the image APIs with cheroot (see :mod:`glance.api.server`).

With ``workers`` processes (see :mod:`glance.cmd.workers`) the parent checks the
configuration, listens, and supervises; each worker builds its own app and
serves.  SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and applies every option but those of
:data:`glance.cmd.common.RESTART_OPTIONS`; connections stay up.
"""
import functools
import logging
import threading
import time

from glance import config, options as opts
from glance.api.server import make_server
from glance.cmd import workers
from glance.cmd.common import Signals, fail, server_parser, start
from glance.wsgi import RequestLog

PROGRAM = opts.API
LOG = logging.getLogger("glance.api.server")


class Runner(Signals):
    """Serve in a thread; handle signals in the main thread."""

    def __init__(self, conf, args, link):
        super().__init__(PROGRAM, conf, args, LOG, link)
        self.server = None
        self.app = None

    def apply(self, conf):
        """New registry client, stores and options for the app; new timeouts for cheroot."""
        if self.app is not None:
            from glance.api import reconfigure
            reconfigure(self.app, conf)
        if self.server is not None:
            self.server.timeout = conf.server_timeout
            self.server.shutdown_timeout = conf.shutdown_timeout

    def serve(self, sock, app):
        """Serve ``app`` on ``sock`` until asked to stop; the exit status."""
        self.app = app
        self.server = make_server(self.conf, RequestLog(app, "glance.api"), sock,
                                  workers.BACKLOG)
        try:
            self.server.prepare()
            workers.freeze_heap()
            self.link.ready()
            return self.run()
        finally:
            app.extensions["glance"]["notifier"].close()

    def run(self):
        serving = threading.Thread(target=self.server.serve, name="cheroot", daemon=True)
        serving.start()
        while not self.should_stop():
            time.sleep(0.2)
            self.reload_if_requested()
            if not serving.is_alive():
                LOG.error("The HTTP server stopped unexpectedly")
                return 1
        self.link.stopping()
        LOG.info("Stopping%s: finishing requests in flight", self.link.where)
        self.server.stop()
        serving.join(5)
        LOG.info("Stopped%s", self.link.where)
        return 0


def build_app(conf, *, forking):
    """The app of ``conf``.  A parent that forks workers gets one with no notifier
    thread: it only checks the configuration and the crash check uses it.

    :raises glance.config.ConfigError: see :func:`glance.api.create_app`.
    """
    from glance.api import create_app
    from glance.notifier import build_notifier
    return create_app(conf, notifier=build_notifier(conf, start=not forking))


def serve_worker(args, conf, sock, link):
    """The body of a worker process: its own app (registry client, notifier thread,
    stores, cache), then serve."""
    runner = Runner(conf, args, link)
    runner.install()
    try:
        app = build_app(conf, forking=False)
    except config.ConfigError as exc:
        LOG.error("Cannot start%s: %s", link.where, exc)
        return 1
    return runner.serve(sock, app)


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
    parser = server_parser(PROGRAM, "Serve the Glance image API (v1 and v2).")
    conf, args = start(PROGRAM, argv, parser, positional="config")
    from glance.api.startup import check_crashed_uploads, check_in_background
    forking = workers.worker_count(conf) > 0
    if forking:
        boss = workers.Supervisor(PROGRAM, conf, args, LOG,
                                  serve=functools.partial(serve_worker, args),
                                  validate=functools.partial(build_app, forking=True))
    else:
        boss = Runner(conf, args, workers.Alone())
    boss.install()    # before listening: an early SIGHUP is a reload, not the default exit
    try:
        app = build_app(conf, forking=forking)
    except config.ConfigError as exc:
        fail(str(exc))
    try:
        sock = workers.listen(conf.bind_host, conf.bind_port)
    except OSError as exc:
        fail(f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}")
    LOG.info("Starting %s on %s:%s", PROGRAM, conf.bind_host, conf.bind_port)
    if forking:
        boss.once = lambda _conf: check_crashed_uploads(app)
        raise SystemExit(boss.run(sock))
    check_in_background(app)
    raise SystemExit(boss.serve(sock, app))


if __name__ == "__main__":
    main()
