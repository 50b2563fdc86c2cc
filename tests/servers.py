"""Start real glance-registry and glance-api processes for the tests."""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

from glance.cmd.control import child_pids

import template_db

HERE = os.path.dirname(os.path.abspath(__file__))
APP = os.path.join(os.path.dirname(HERE), "app")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_conf(path, options, section="DEFAULT", sections=None):
    """Write ``options`` into ``[section]``, then each of ``sections`` ({name: {key: value}})."""
    lines = [f"[{section}]"] + [f"{k} = {v}" for k, v in options.items()]
    for name, items in (sections or {}).items():
        lines += ["", f"[{name}]"] + [f"{k} = {v}" for k, v in items.items()]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


def wait_for(predicate, timeout=15.0):
    """Poll ``predicate`` until it is true or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def wait_for_port(port, proc=None, timeout=60.0, log=None):
    """Until ``port`` answers; with ``proc``, until it is ``proc`` (or its workers) that
    listens there: a port from :func:`free_port` may be taken by another test's server
    before ``proc`` binds it, and that server must not pass for ``proc``.

    :raises PortTaken: ``proc`` exited because the port was in use.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            text = ""
            if log and os.path.exists(log):
                with open(log) as handle:
                    text = handle.read()
            error = PortTaken if "Address already in use" in text else RuntimeError
            raise error(f"server exited with {proc.returncode}:\n{text}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except OSError:
            time.sleep(0.05)
            continue
        if proc is None or _listens(port, [proc.pid] + child_pids(proc.pid)):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port} after {timeout}s")


class PortTaken(RuntimeError):
    """The server could not bind its port: another process took it first."""


def _listens(port, pids):
    """Does one of ``pids`` hold the socket listening on ``port``?"""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return True
    return False


def migrate(conf_path, cwd):
    """``glance-manage db_sync``'s work on the database of the glance-registry configuration
    ``conf_path`` (a relative SQLite path is taken in ``cwd``, the server's directory):
    glance-registry serves only a migrated database, so every starter migrates first.

    Done in this process (``glance.registry.db.db_sync``, the code glance-manage runs),
    which saves a Python start per registry.  A configuration or database the migration
    cannot use is left for the server to refuse with its own message.
    """
    import sqlalchemy.exc
    from sqlalchemy.engine import make_url

    from glance import config
    from glance.registry import db
    try:
        url = make_url(config.load_config("glance-registry", conf_path).sql_connection)
    except (config.ConfigError, sqlalchemy.exc.ArgumentError):
        return
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = os.path.join(cwd, url.database)
        if os.path.isdir(os.path.dirname(path)) and not os.path.exists(path):
            template_db.copy_sqlite(path)       # what db_sync would make, in milliseconds
            return
        url = url.set(database=path)
    try:
        engine = db.make_engine(url.render_as_string(hide_password=False))
    except config.ConfigError:
        return
    try:
        db.db_sync(engine)
    except sqlalchemy.exc.SQLAlchemyError:
        pass
    finally:
        engine.dispose()


class Server:
    """One server process: ``Server("glance-registry", tmp_path, {...}).start()``.

    ``sections`` are more sections of its file, e.g. ``{"keystone_authtoken": {...}}``.
    A glance-registry's database is migrated before it starts (see :func:`migrate`),
    unless ``migrate=False`` (to see what it does with an unmigrated one).
    """

    def __init__(self, program, workdir, options=None, args=(), sections=None, migrate=True):
        self.program = program
        self.migrate = migrate and program == "glance-registry"
        self.workdir = str(workdir)
        self.port = free_port()
        self.options = {"bind_host": "127.0.0.1", "bind_port": self.port, **(options or {})}
        self.args = list(args)
        self.sections = sections or {}
        self.conf = os.path.join(self.workdir, f"{program}.conf")
        self.log = os.path.join(self.workdir, f"{program}.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        write_conf(self.conf, self.options, sections=self.sections)
        if self.migrate:
            migrate(self.conf, self.workdir)
        env = dict(os.environ, PYTHONPATH=APP + os.pathsep + os.environ.get("PYTHONPATH", ""))
        module = "glance.cmd." + self.program.split("-", 1)[1]
        for attempt in range(3):
            with open(self.log, "ab") as out:
                self.proc = subprocess.Popen(
                    [sys.executable, "-m", module, "--config-file", self.conf, *self.args],
                    cwd=self.workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
            try:
                wait_for_port(self.port, self.proc, log=self.log)
                return self
            except PortTaken:
                if attempt == 2 or self.options.get("bind_port") != self.port:
                    raise
            # Another test's server took the port between free_port() and the bind.
            self.port = self.options["bind_port"] = free_port()
            write_conf(self.conf, self.options, sections=self.sections)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal the server and wait for it.  SIGKILL (given, or after ``timeout``) goes
        to its worker processes too, as systemd's does: a crash of the whole server."""
        if self.proc and self.proc.poll() is None:
            workers = child_pids(self.proc.pid)
            self.proc.send_signal(sig)
            if sig == signal.SIGKILL:
                kill(workers)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                kill(workers)
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def pids(self):
        """The server's processes: the parent, then its workers."""
        return [self.proc.pid] + child_pids(self.proc.pid)

    def logtext(self):
        with open(self.log, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def get(self, path, **kw):
        return requests.get(self.url + path, timeout=30, **kw)


def kill(pids):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextlib.contextmanager
def glance_pair(workdir=None, registry_options=None, api_options=None):
    """``(api, registry)``: a glance-registry on SQLite and a glance-api on it with its
    file store, both started in ``workdir`` (default: a temporary directory, removed
    at the end); stopped at the end."""
    temporary = workdir is None
    workdir = workdir or tempfile.mkdtemp(prefix="glance-")
    os.makedirs(workdir, exist_ok=True)
    registry = Server("glance-registry", workdir, {
        "sql_connection": f"sqlite:///{workdir}/registry.sqlite", **(registry_options or {})})
    api = None
    try:
        registry.start()
        api = Server("glance-api", workdir, {
            "registry_host": "127.0.0.1", "registry_port": registry.port,
            "filesystem_store_datadir": os.path.join(workdir, "images"),
            **(api_options or {})}).start()
        yield api, registry
    finally:
        if api:
            api.stop()
        registry.stop()
        if temporary:
            shutil.rmtree(workdir, ignore_errors=True)


def sqlite_registry(workdir):
    """A started glance-registry on a fresh SQLite file in ``workdir``."""
    return Server("glance-registry", workdir,
                  {"sql_connection": f"sqlite:///{workdir}/registry.sqlite"}).start()
