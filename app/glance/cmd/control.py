"""glance-control: start, stop, reload and check the Glance servers.

    glance-control [options] SERVER COMMAND [CONFPATH]

SERVER is ``api``, ``registry``, ``scrubber`` or ``all`` (a ``glance-`` prefix
is accepted); ``all`` means registry and api, plus the scrubber when it is
installed (which glance-control runs as a daemon). COMMAND is ``start``,
``stop``, ``restart``, ``reload`` or ``status`` (``force-reload`` is
``reload``, ``shutdown`` is ``stop``).

``start`` finds the server's configuration file the way the server itself does
(CONFPATH or ``--config-file`` first), checks it, for glance-registry runs
``glance-manage db_sync`` with it (glance-registry serves only a migrated
database; a failed migration starts nothing), starts the server's program
in a new session with stdin, stdout and stderr on /dev/null (the server logs
where its configuration says) and writes its pid file. It then watches the
child for ``--await-child`` seconds and fails if it dies. ``stop`` sends
SIGTERM and waits, then SIGKILL after ``--kill-after`` seconds. ``reload``
sends SIGHUP: the server re-reads its configuration and logging settings
without dropping connections.

Pid files default to ``/var/run/glance/<server>.pid`` for root, otherwise to
``$XDG_RUNTIME_DIR/glance/`` or ``~/.glance/run/``. A pid file whose process is
gone, or is not the server any more, is stale and removed.

Exit status, after the LSB init-script conventions:

======  ==========================================================
status  meaning
======  ==========================================================
0       success; start of a running server and stop of a stopped
        one are successes too. ``status``: the server is running
1       generic failure (the server died during start, its port is
        taken, it outlived SIGKILL). ``status``: dead, but its pid
        file exists
2       invalid arguments: usage, unknown server or command
3       ``status`` only: not running
4       insufficient privilege (the pid file cannot be written or
        read, the server cannot be signalled); ``status``: unknown
5       the program is not installed (the scrubber)
6       not configured: no configuration file, or an invalid one
7       ``reload``: the server is not running
======  ==========================================================

With ``all`` the highest status of the servers is returned.
"""
import argparse
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from importlib.util import find_spec

from glance import __version__, config
from glance.log import log_path

# exit statuses (see the table above)
OK, FAILED, USAGE, NOT_RUNNING, NO_PERMISSION, NOT_INSTALLED, NOT_CONFIGURED = 0, 1, 2, 3, 4, 5, 6
DEAD_WITH_PIDFILE, RELOAD_NOT_RUNNING = 1, 7

SERVERS = ("glance-registry", "glance-api", "glance-scrubber")   # start order
COMMANDS = ("start", "stop", "restart", "reload", "force-reload", "shutdown", "status")
ALIASES = {"force-reload": "reload", "shutdown": "stop"}
NOFILE = 32768
USAGE_TEXT = "%(prog)s [options] <SERVER> <COMMAND> [CONFPATH]"


def say(message):
    print(message, flush=True)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="glance-control", usage=USAGE_TEXT, allow_abbrev=False,
        description="Start, stop, reload and check the Glance servers. SERVER is one of "
                    "all, api, registry, scrubber; COMMAND one of start, stop, restart, "
                    "reload, status.")
    parser.add_argument("words", nargs="*", metavar="SERVER COMMAND [CONFPATH]")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config-file", metavar="PATH",
                        help="The server's configuration file (same as CONFPATH).")
    parser.add_argument("--pid-file", metavar="PATH",
                        help="Pid file of the server (one server only). Default: "
                             "/var/run/glance/<server>.pid as root, else under "
                             "$XDG_RUNTIME_DIR/glance or ~/.glance/run.")
    parser.add_argument("--pid-dir", metavar="DIR",
                        help="Directory of the pid files, <server>.pid in it (for 'all').")
    parser.add_argument("--await-child", type=float, default=2.0, metavar="SECONDS",
                        help="After start, how long to watch the server for an early "
                             "death (default: %(default)s).")
    parser.add_argument("--kill-after", type=float, default=15.0, metavar="SECONDS",
                        help="After SIGTERM, how long to wait before SIGKILL "
                             "(default: %(default)s).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Say more.")
    parser.add_argument("-d", "--debug", action="store_true", help="Say even more.")
    return parser


def server_name(word):
    """``api``/``glance-api`` -> ``glance-api``; ``all`` -> ``all``; else None."""
    word = word.lower()
    if word == "all":
        return word
    name = word if word.startswith("glance-") else "glance-" + word
    return name if name in SERVERS else None


def default_pid_dir():
    if os.geteuid() == 0:
        return "/var/run/glance"
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime) and os.access(runtime, os.W_OK):
        return os.path.join(runtime, "glance")
    return os.path.expanduser("~/.glance/run")


def module_of(server):
    """``glance-api`` -> ``glance.cmd.api``, the module that runs it."""
    return "glance.cmd." + server.split("-", 1)[1]


def server_command(server):
    """The argv that runs ``server``, or None when it is not installed.

    The console script next to this interpreter wins, then one on PATH, then
    ``python -m glance.cmd.<name>`` from this very package.
    """
    here = os.path.dirname(sys.executable)
    for found in (shutil.which(server, path=here), shutil.which(server)):
        if found:
            return [found]
    module = module_of(server)
    if find_spec(module) is not None:
        return [sys.executable, "-m", module]
    return None


def is_installed(server):
    return server_command(server) is not None


class Server:
    """One server and its pid file."""

    def __init__(self, name, pid_file, conf_path, args):
        self.name, self.pid_file, self.conf_path, self.args = name, pid_file, conf_path, args

    # --- pid file ---------------------------------------------------------

    def read_pid(self):
        """The pid in the pid file, or None when there is no (usable) pid file.

        :raises PermissionError: the pid file cannot be read.
        """
        try:
            with open(self.pid_file, encoding="ascii") as handle:
                text = handle.read().strip()
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            return -1
        return int(text) if text.isdigit() and int(text) > 0 else -1

    def owns(self, pid):
        """Whether ``pid`` is alive and is this server (not a reused pid)."""
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                state = handle.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            return False
        if state in (b"Z", b"X"):
            return False   # exited, not yet reaped
        return self.name in cmdline or module_of(self.name) in cmdline

    def remove_pid_file(self):
        try:
            os.unlink(self.pid_file)
        except FileNotFoundError:
            pass

    def write_pid_file(self, pid):
        tmp = f"{self.pid_file}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(f"{pid}\n")
        os.replace(tmp, self.pid_file)

    def running_pid(self):
        """The pid of the running server; removes a stale pid file."""
        pid = self.read_pid()
        if pid is None:
            return None
        if self.owns(pid):
            return pid
        say(f"Removing stale pid file {self.pid_file}")
        self.remove_pid_file()
        return None

    # --- commands -----------------------------------------------------------

    def start(self):
        pid = self.running_pid()
        if pid:
            say(f"{self.name} appears to already be running: {self.pid_file}")
            return OK
        command = server_command(self.name)
        if command is None:
            say(f"{self.name} is not installed")
            return NOT_INSTALLED
        try:
            path = config.find_config_file(self.name, explicit=self.conf_path)
            conf = config.load_config(self.name, path)
        except config.ConfigNotFound:
            say("Could not find any configuration file to use!")
            return NOT_CONFIGURED
        except config.ConfigError as exc:
            say(f"ERROR: {exc}")
            return NOT_CONFIGURED
        problem = preflight(conf)
        if problem:
            say(f"ERROR: {problem}")
            return FAILED
        status = self.prepare_pid_dir()
        if status:
            return status
        if self.name == "glance-registry":
            status = self.migrate(path)
            if status:
                return status
        raise_nofile()
        say(f"Starting {self.name} with {path}")
        argv = [*command, "--config-file", path]
        if self.name == "glance-scrubber":
            argv += ["--daemon", "true"]   # a server to control, not a single run
        if self.args.debug:
            say("Running: " + " ".join(argv))
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True,
                                 close_fds=True)
        self.write_pid_file(child.pid)
        deadline = time.monotonic() + max(self.args.await_child, 0)
        while time.monotonic() < deadline:
            code = child.poll()
            if code is not None:
                self.remove_pid_file()
                why = f"exit status {code}" if code >= 0 else f"signal {-code}"
                say(f"{self.name} (pid {child.pid}) died during start: {why}")
                log = log_path(conf)
                if log:
                    say(f"Last lines of {log}:")
                    for line in tail(log):
                        say("  " + line)
                else:
                    say(f"Its log went to stderr; run {self.name} --config-file {path} "
                        "in the foreground to see it")
                return FAILED
            time.sleep(0.05)
        if self.args.verbose:
            say(f"{self.name} started, pid {child.pid}, pid file {self.pid_file}")
        return OK

    def migrate(self, path):
        """``glance-manage db_sync`` on the registry's database, before the registry starts."""
        command = server_command("glance-manage")
        argv = [*command, "--config-file", path, "db_sync"]
        if self.args.debug:
            say("Running: " + " ".join(argv))
        result = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                check=False)
        if result.returncode:
            lines = (result.stderr or result.stdout).strip().splitlines()
            say(f"glance-manage db_sync failed, {self.name} not started: "
                f"{lines[-1] if lines else f'exit status {result.returncode}'}")
            return FAILED
        if self.args.verbose:
            say(result.stdout.strip())
        return OK

    def prepare_pid_dir(self):
        folder = os.path.dirname(os.path.abspath(self.pid_file))
        try:
            os.makedirs(folder, exist_ok=True)
            probe = f"{self.pid_file}.{os.getpid()}.tmp"
            open(probe, "w").close()
            os.unlink(probe)
        except PermissionError:
            say(f"Unable to create {self.pid_file}.  Running as non-root?")
            return NO_PERMISSION
        except OSError as exc:
            say(f"Unable to create {self.pid_file}: {exc.strerror}")
            return FAILED
        return OK

    def stop(self):
        pid = self.read_pid()
        if pid is None:
            say(f"No {self.name} running")
            return OK
        if not self.owns(pid):
            say(f"Process {pid} not running")
            say(f"Removing stale pid file {self.pid_file}")
            self.remove_pid_file()
            return OK
        say(f"Stopping {self.name} pid: {pid} signal: {int(signal.SIGTERM)}")
        if not self.signal(pid, signal.SIGTERM):
            return NO_PERMISSION
        if not self.wait_gone(pid, self.args.kill_after):
            say(f"Waited {self.args.kill_after:g} seconds for pid {pid} ({self.name}) to die; "
                f"sending signal {int(signal.SIGKILL)}")
            self.kill_group(pid)
            if not self.wait_gone(pid, 5):
                say(f"{self.name} (pid {pid}) is still running")
                return FAILED
        self.remove_pid_file()
        return OK

    def signal(self, pid, signum):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            return True
        except PermissionError:
            say(f"Not allowed to signal {self.name} (pid {pid}).  Running as non-root?")
            return False
        return True

    def kill_group(self, pid):
        """SIGKILL the server and its worker processes (its process group, as ``start``
        made it a session leader), or the server alone when it leads no group."""
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
                return
        except ProcessLookupError:
            return
        self.signal(pid, signal.SIGKILL)

    def wait_gone(self, pid, seconds):
        deadline = time.monotonic() + seconds
        while self.owns(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def reload(self):
        pid = self.running_pid()
        if not pid:
            say(f"No {self.name} running")
            return RELOAD_NOT_RUNNING
        if self.name == "glance-scrubber":   # it has no SIGHUP handler: restart it
            say(f"{self.name} cannot reload its configuration; restarting it")
            return self.stop() or self.start()
        say(f"Reloading {self.name} pid: {pid} signal: {int(signal.SIGHUP)}")
        return OK if self.signal(pid, signal.SIGHUP) else NO_PERMISSION

    def status(self):
        pid = self.read_pid()
        if pid is None:
            say(f"{self.name} is not running")
            return NOT_RUNNING
        if self.owns(pid):
            children = child_pids(pid)
            more = f" with {len(children)} worker processes" if children else ""
            say(f"{self.name} (pid {pid}) is running{more}")
            if children and self.args.verbose:
                say("workers: " + " ".join(map(str, children)))
            return OK
        say(f"{self.name} is dead, but its pid file {self.pid_file} exists")
        return DEAD_WITH_PIDFILE


def preflight(conf):
    """Catch what would kill the server at once, with a readable reason."""
    if "bind_port" in conf:
        family = socket.AF_INET6 if ":" in conf.bind_host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((conf.bind_host, conf.bind_port))
            except OSError as exc:
                return f"Cannot listen on {conf.bind_host}:{conf.bind_port}: {exc.strerror or exc}"
    log = None if conf.log_config else log_path(conf)
    if log:
        try:
            open(log, "a").close()
        except OSError as exc:
            return f"Cannot open log file {log}: {exc.strerror}"
    return None


def child_pids(pid):
    """The processes whose parent is ``pid`` (a server's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            found.append(int(entry))
    return sorted(found)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            say("Unable to increase file descriptor limit.  Running as non-root?")


def tail(path, lines=10):
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 8192))
            text = handle.read().decode(errors="replace")
    except OSError as exc:
        return [f"(cannot read: {exc.strerror})"]
    return text.splitlines()[-lines:]


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    words = args.words
    if len(words) < 2 or len(words) > 3:
        parser.print_usage()
        return USAGE
    server_word, command = words[0], words[1].lower()
    server = server_name(server_word)
    if server is None:
        say(f"Unknown server '{server_word}' specified. Please specify all, or one of the "
            "servers: api, registry, scrubber")
        parser.print_usage()
        return USAGE
    if command not in COMMANDS:
        say(f"Unknown command '{words[1]}' specified. Please specify a command in this "
            f"list: {', '.join(COMMANDS)}")
        parser.print_usage()
        return USAGE
    command = ALIASES.get(command, command)
    conf_path = args.config_file or (words[2] if len(words) == 3 else None)
    if server == "all":
        if args.pid_file:
            say("--pid-file names the pid file of one server; it cannot be used with 'all'")
            return USAGE
        names = [s for s in SERVERS if s != "glance-scrubber" or is_installed(s)]
    else:
        names = [server]
    pid_dir = args.pid_dir or default_pid_dir()
    servers = [Server(name, args.pid_file or os.path.join(pid_dir, name + ".pid"), conf_path, args)
               for name in names]
    if server == "glance-scrubber" and not is_installed(server):
        say("glance-scrubber is not installed")
        return NOT_RUNNING if command == "status" else NOT_INSTALLED
    try:
        if command in ("stop", "restart"):
            # api stops before registry; a restart starts them all again in order
            status = max(s.stop() for s in reversed(servers))
            if command == "stop" or status:
                return status
            command = "start"
        return max(getattr(s, command)() for s in servers)
    except PermissionError as exc:
        say(f"Unable to use {exc.filename}.  Running as non-root?")
        return NO_PERMISSION
    except KeyboardInterrupt:
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
