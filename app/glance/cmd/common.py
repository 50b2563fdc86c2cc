"""What every command does before it starts: config, logging, errors as one line.

Plus the signal handling the two servers share (:class:`Signals`).
"""
import logging
import signal
import sys

from glance import config
from glance.log import log_options, setup_logging


def fail(message, status=1):
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(status)


def db_error_text(exc):
    """A database error in one line: the driver's message (SQL and parameters follow it)."""
    return (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]


def fail_db(what, exc):
    """End the program on a database error, in one line."""
    fail(f"{what}: {db_error_text(exc)}")


def server_parser(program, description):
    """The command line of a server: the options, and the config file as its argument."""
    parser = config.build_parser(program, description)
    parser.add_argument("config", nargs="?", metavar="CONFIG_FILE",
                        help="Configuration file (same as --config-file).")
    return parser


def start(program, argv, parser, positional=None):
    """Parse the command line, load the config, set up logging.

    Any configuration problem ends the program with one line on stderr and
    exit status 1, never a traceback.

    :returns: ``(conf, args)``
    """
    try:
        conf, args = config.parse_args(program, sys.argv[1:] if argv is None else argv,
                                       parser, positional)
        setup_logging(conf)
    except config.ConfigError as exc:
        fail(str(exc))
    if conf.debug:
        log_options(conf, logging.getLogger(program))
    return conf, args


# Options SIGHUP cannot apply: they need a new socket, process, thread pool or auth middleware.
RESTART_OPTIONS = ("bind_host", "bind_port", "workers", "server_threads", "auth_strategy")
HANDLED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Signals:
    """SIGTERM/SIGINT ask a server to stop, SIGHUP to re-read its configuration.

    The handlers only set flags (a handler may interrupt the main thread
    anywhere, even inside a lock); the server's main loop acts on them.
    ``link`` (see :mod:`glance.cmd.workers`) tells systemd, or the parent of a
    worker process, what happened.
    """

    def __init__(self, program, conf, args, log, link):
        self.program, self.conf, self.log, self.link = program, conf, log, link
        # A reload keeps what the command line said, as at startup.
        self.overrides = config.command_line_values(program, args)
        self.stop_requested = False
        self.reload_requested = False

    def install(self):
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        # A worker is forked with these blocked, so none is lost before this point.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)

    def request_stop(self, _signum, _frame):
        self.stop_requested = True

    def request_reload(self, _signum, _frame):
        self.reload_requested = True

    def should_stop(self):
        """Asked to stop, or (a worker) left alone by a parent that died."""
        if not self.stop_requested and self.link.orphaned():
            self.log.warning("The parent process is gone: stopping")
            self.stop_requested = True
        return self.stop_requested

    def reload_if_requested(self):
        """Re-read the same file and apply it; a bad file keeps the old settings.

        What needs no new socket is applied (:meth:`apply`, then logging);
        the listening address, port, processes and threads need a restart.
        """
        if not self.reload_requested:
            return
        self.reload_requested = False
        self.link.reloading()
        self.reloaded(self._reload())

    def _reload(self):
        """The applied configuration, or None (logged) when it cannot be used."""
        try:
            conf = self._keep_restart_options(
                config.load_config(self.program, self.conf.path, self.overrides))
            self.apply(conf)
            setup_logging(conf)
        except Exception as exc:     # ConfigError, or a store or database URL that cannot be used
            text = " ".join(str(exc).split())     # one line in the log, whatever the parser said
            self.log.error("Reload failed%s, keeping the old settings: %s", self.link.where, text)
            return None
        self.conf = conf
        return conf

    def reloaded(self, conf):
        """Report the reload (``conf`` is None when it failed)."""
        if conf is not None:
            self.log.info("Reloaded configuration from %s%s", conf.path, self.link.where)
        self.link.reloaded(conf is not None)

    def _keep_restart_options(self, conf):
        """``conf`` with the running values of what only a restart can change.

        The socket, the processes, the thread pool and the auth middleware were
        built at start: a new ``auth_strategy`` without its middleware would
        trust forged headers.
        """
        kept = {name: self.conf.get(name) for name in RESTART_OPTIONS
                if conf.get(name) != self.conf.get(name)}
        if self.link.leads:      # said once, by the process systemd knows
            for name in kept:
                self.log.warning("%s changed in %s: restart %s to apply it", name, conf.path,
                                 self.program)
        return conf.replace(**kept) if kept else conf

    def apply(self, conf):
        """Put ``conf`` into effect in the running server (the servers override it).

        :raises Exception: ``conf`` cannot be applied; nothing was changed.
        """
