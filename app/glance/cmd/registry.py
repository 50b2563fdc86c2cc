"""glance-registry: serve the registry API with waitress.

It serves only a database at the newest schema revision: anything else (none yet,
older, unknown) ends it at start with one line saying to run ``glance-manage db_sync``,
which glance-registry-migrate.service (and every other starter) runs first.
With ``workers`` processes (see :mod:`glance.cmd.workers`) the parent opens the
database, listens and supervises; each
worker serves with the parent's app, its connection pool emptied after fork.
SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and sets up logging again without dropping connections.
"""
import functools
import logging
import time

import sqlalchemy.exc
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from glance import config, options as opts
from glance.cmd import workers
from glance.cmd.common import Signals, fail, fail_db, server_parser, start
from glance.log import log_path
from glance.registry.db import SchemaError
from glance.registry.server import SlowClients, channel_map, make_server
from glance.wsgi import RequestLog

PROGRAM = opts.REGISTRY
LOG = logging.getLogger("glance.registry.server")


def make_app(conf):
    """The WSGI app of ``conf``, wrapped in the request log.

    :raises glance.config.ConfigError: bad database URL, or a schema that is not the
        newest (:class:`glance.registry.db.SchemaError`).
    :raises sqlalchemy.exc.SQLAlchemyError: the database cannot be reached.
    """
    from glance.registry import create_app
    return RequestLog(create_app(conf), "glance.registry")


class Runner(Signals):
    """The waitress main loop plus the signal handling around it."""

    def __init__(self, conf, args, link, app=None):
        super().__init__(PROGRAM, conf, args, LOG, link)
        self.server = None
        self.app = app
        self.map = None         # the server's socket map, once it listens
        self.slow_clients = SlowClients(conf)

    def apply(self, conf):
        """New options for the app; a new engine when the database settings changed."""
        state = self.app.extensions["glance_registry"] if self.app is not None else None
        if state is None:
            return
        old = state.conf
        if (conf.sql_connection, conf.sql_idle_timeout) != (old.sql_connection,
                                                            old.sql_idle_timeout):
            from glance.registry import db
            engine = db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
            try:
                db.check_schema(engine)
            except Exception:
                engine.dispose()
                raise
            retired = state.engine
            state.engine, state.Session = engine, db.session_factory(engine)
            retired.dispose()
        state.conf = conf

    def busy(self):
        dispatcher = self.server.task_dispatcher
        if dispatcher.queue:
            return True
        return any(isinstance(ch, HTTPChannel) and (ch.requests or ch.total_outbufs_len)
                   for ch in list(self.map.values()))

    def stop_listening(self):
        for item in list(self.map.values()):
            if isinstance(item, BaseWSGIServer):
                # dispatcher.close: the listening socket only, not the trigger.
                wasyncore.dispatcher.close(item)

    def serve(self, sock, app):
        """Serve ``app`` (the WSGI app of :func:`make_app`) on ``sock``; the exit status."""
        self.server = make_server(self.conf, app, sock, workers.BACKLOG)
        workers.freeze_heap()
        self.link.ready()
        self.run()
        return 0

    def run(self):
        self.install()
        self.map = channel_map(self.server)
        deadline = None
        while True:
            wasyncore.loop(timeout=0.2, map=self.map, use_poll=True, count=1)
            self.slow_clients.sweep(self.map.values())
            self.reload_if_requested()
            if self.should_stop() and deadline is None:
                self.link.stopping()
                LOG.info("Stopping%s: finishing requests in flight", self.link.where)
                self.stop_listening()
                deadline = time.monotonic() + self.conf.shutdown_timeout
            if deadline is not None and (not self.busy() or time.monotonic() > deadline):
                break
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        LOG.info("Stopped%s", self.link.where)


def serve_worker(args, app, conf, sock, link):
    """The body of a worker process: the parent's app, with a connection pool of its own."""
    state = app.app.extensions["glance_registry"]
    # The parent's pooled connections are its own: forget them without closing them.
    state.engine.dispose(close=False)
    runner = Runner(conf, args, link, app.app)
    runner.install()
    return runner.serve(sock, app)


def main(argv=None):
    parser = server_parser(PROGRAM, "Serve the Glance registry API (image metadata).")
    conf, args = start(PROGRAM, argv, parser, positional="config")
    forking = workers.worker_count(conf) > 0
    try:
        app = make_app(conf)
    except SchemaError as exc:
        # stderr (the journal under systemd), and the log file or syslog when logging goes there
        if log_path(conf) or conf.use_syslog or conf.log_config:
            LOG.error("%s", exc)
        fail(str(exc))
    except config.ConfigError as exc:
        fail(str(exc))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        fail_db("Cannot use the database", exc)
    runner = Runner(conf, args, workers.Alone(), app.app)
    if forking:
        # The parent keeps the app its workers start from, without connections.
        app.app.extensions["glance_registry"].engine.dispose()
        boss = workers.Supervisor(PROGRAM, conf, args, LOG,
                                  serve=functools.partial(serve_worker, args, app),
                                  validate=runner.apply)
    else:
        boss = runner
    boss.install()    # before listening: an early SIGHUP is a reload, not the default exit
    try:
        sock = workers.listen(conf.bind_host, conf.bind_port)
    except OSError as exc:
        fail(f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}")
    LOG.info("Starting %s on %s:%s", PROGRAM, conf.bind_host, conf.bind_port)
    raise SystemExit(boss.run(sock) if forking else runner.serve(sock, app))


if __name__ == "__main__":
    main()
