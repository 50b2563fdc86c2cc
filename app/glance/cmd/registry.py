"""glance-registry: serve the registry API with waitress.

SIGTERM stops accepting, lets requests in flight finish (at most
``shutdown_timeout`` seconds) and exits 0.  SIGHUP re-reads the same
configuration file and sets up logging again without dropping connections.
"""
import logging
import time

import sqlalchemy.exc
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from glance import config, options as opts
from glance.cmd.common import Signals, fail, fail_db, server_parser, start
from glance.registry.server import SlowClients, channel_map, make_server
from glance.wsgi import RequestLog

PROGRAM = opts.REGISTRY
LOG = logging.getLogger("glance.registry.server")


def make_app(conf):
    """The WSGI app of ``conf``, wrapped in the request log.

    :raises glance.config.ConfigError: bad database URL.
    :raises sqlalchemy.exc.SQLAlchemyError: the database cannot be reached.
    """
    from glance.registry import create_app
    return RequestLog(create_app(conf), "glance.registry")


class Runner(Signals):
    """The waitress main loop plus the signal handling around it."""

    def __init__(self, server, conf, args, app=None):
        super().__init__(PROGRAM, conf, args, LOG)
        self.server = server
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

    def run(self):
        self.install()
        self.map = channel_map(self.server)
        deadline = None
        while True:
            wasyncore.loop(timeout=0.2, map=self.map, use_poll=True, count=1)
            self.slow_clients.sweep(self.map.values())
            self.reload_if_requested()
            if self.stop_requested and deadline is None:
                LOG.info("Stopping: finishing requests in flight")
                self.stop_listening()
                deadline = time.monotonic() + self.conf.shutdown_timeout
            if deadline is not None and (not self.busy() or time.monotonic() > deadline):
                break
        self.server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
        LOG.info("Stopped")


def main(argv=None):
    parser = server_parser(PROGRAM, "Serve the Glance registry API (image metadata).")
    conf, args = start(PROGRAM, argv, parser, positional="config")
    try:
        app = make_app(conf)
    except config.ConfigError as exc:
        fail(str(exc))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        fail_db("Cannot use the database", exc)
    runner = Runner(None, conf, args, app.app)
    runner.install()    # before listening: an early SIGHUP is a reload, not the default exit
    try:
        runner.server = make_server(conf, app)
    except OSError as exc:
        fail(f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}")
    LOG.info("Starting %s on %s:%s", PROGRAM, conf.bind_host, conf.bind_port)
    runner.run()
    return 0


if __name__ == "__main__":
    main()
