"""Worker processes: the parent listens and supervises, each worker serves.

glance-api and glance-registry run as one parent process (the unit's main
PID) and ``workers`` children forked from it.  The parent opens the listening
socket before it forks, so every worker accepts from the one queue and a worker
that dies loses none of it.  Then it only supervises:

* a worker that dies is replaced: at once when it had served a while, else
  after a delay that doubles up to ``MAX_DELAY``, so a crash loop does not spin;
* SIGHUP: the parent re-reads the file; when it can be used, each worker
  re-reads it too (as the single process always did) and says so on a pipe.
  systemd hears ``RELOADING=1``, then ``READY=1`` once every worker has;
* SIGTERM (or SIGINT): the parent closes its copy of the socket and passes the
  signal on; each worker stops accepting and finishes what runs (at most
  ``shutdown_timeout`` seconds); the parent exits when they all have, and kills
  any still there ``KILL_AFTER`` seconds later;
* a worker whose parent died stops by itself.

A worker creates for itself what must not be shared after fork: glance-api's
app (registry client sessions, notifier thread, stores, image cache);
glance-registry's database pool is emptied without closing the parent's
connections.  ``workers = 0`` serves in the one process, as before.
"""
import gc
import logging
import os
import selectors
import signal
import socket
import time

from glance import sdnotify
from glance.cmd.common import HANDLED, Signals

BACKLOG = 1024        # connections the kernel queues until a worker accepts them
MAX_CPUS = 8          # default workers: the CPUs, at most this many (as Glance)
STABLE = 10.0         # a worker that lived this long did not die of starting
MAX_DELAY = 30.0      # longest wait before replacing a worker that keeps dying
KILL_AFTER = 5.0      # seconds past shutdown_timeout before draining workers are killed
RELOAD_WAIT = 30.0    # seconds the parent waits for the workers to confirm a reload
TICK = 0.5


def worker_count(conf):
    """``workers``, or the CPUs this process may run on (at most ``MAX_CPUS``)."""
    if conf.workers is not None:
        return conf.workers
    return max(1, min(MAX_CPUS, len(os.sched_getaffinity(0))))


def freeze_heap():
    """Hide what start-up made (modules, the app) from the cyclic garbage collector.

    A list of 1000 images allocates enough objects to start collections, and each
    full one walked every object of Flask and SQLAlchemy: a third of the list's time.
    In a forked worker it also keeps those pages shared (a collection writes to them).
    """
    gc.collect()
    gc.freeze()


def listen(host, port):
    """A listening TCP socket on ``host:port``, made before any worker exists.

    :raises OSError: the address cannot be bound.
    """
    error = None
    for family, kind, proto, _name, address in socket.getaddrinfo(
            host or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE):
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)   # inherited by accepted
            sock.bind(address)
            sock.listen(BACKLOG)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error


def describe(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        return f"was killed by signal {number} ({signal.Signals(number).name})"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


class Alone:
    """The link of the process systemd started: the parent, or the one process."""

    leads = True
    where = ""

    def ready(self):
        sdnotify.ready()

    def reloading(self):
        sdnotify.reloading()

    def reloaded(self, _ok):
        sdnotify.ready()

    def stopping(self):
        sdnotify.stopping()

    def orphaned(self):
        return False


class ToParent:
    """The link of a worker: one line per event on the parent's pipe."""

    leads = False

    def __init__(self, number, parent, fd):
        self.number, self.parent, self.fd = number, parent, fd

    @property
    def where(self):
        """Said in the worker's log lines."""
        return f" in worker {self.number} (pid {os.getpid()})"

    def _say(self, word):
        try:
            os.write(self.fd, f"{word} {os.getpid()}\n".encode())
        except OSError:
            pass        # the parent is gone: orphaned() stops this worker

    def ready(self):
        self._say("ready")

    def reloading(self):
        pass

    def reloaded(self, ok):
        self._say("reloaded" if ok else "unchanged")

    def stopping(self):
        pass

    def orphaned(self):
        return os.getppid() != self.parent


class Slot:
    """One worker's place: the process in it, and when to fill it again."""

    def __init__(self, number):
        self.number = number
        self.pid = None
        self.started = self.due = self.delay = 0.0
        self.ready = False


class Supervisor(Signals):
    """The parent process.

    :param serve: ``serve(conf, sock, link) -> exit status``: the body of a worker.
    :param validate: ``validate(conf)`` raises when a re-read file cannot be used
        (the workers are then not asked to reload).
    :param once: ``once(conf)`` runs once, in a process of its own started with
        the workers (glance-api's check for crashed uploads), or None.
    """

    def __init__(self, program, conf, args, log, *, serve, validate=None, once=None):
        super().__init__(program, conf, args, log, Alone())
        self.serve, self.validate, self.once = serve, validate, once
        self.slots = [Slot(n) for n in range(1, worker_count(conf) + 1)]
        self.helpers = {}           # pid -> name of a one-shot process
        self.sock = None
        self.announced = False      # READY=1 sent
        self.pending = None         # during a reload: workers yet to confirm it
        self.unchanged = []         # ... and those that could not apply it
        self.reload_deadline = self.kill_deadline = None
        self._fds = []
        self._selector = None
        self._inbox = self._outbox = None
        self._received = b""

    def apply(self, conf):
        if self.validate is not None:
            self.validate(conf)

    # --- the loop --------------------------------------------------------------------

    def run(self, sock):
        """Start the workers and look after them until they have stopped; the exit status."""
        self.sock = sock
        self.install()
        wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._inbox, self._outbox = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._fds = [wake_r, wake_w, self._inbox]
        signal.set_wakeup_fd(wake_w)                # a signal ends the select below at once
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self._selector = selectors.DefaultSelector()
        self._selector.register(wake_r, selectors.EVENT_READ)
        self._selector.register(self._inbox, selectors.EVENT_READ)
        self.log.info("Starting %d worker processes", len(self.slots))
        if self.once is not None:
            self._start_helper("check for crashed uploads", self.once)
        try:
            while self._turn():
                for key, _ in self._selector.select(self._timeout()):
                    self._drain_pipe(key.fd)
        finally:
            signal.set_wakeup_fd(-1)
            self._selector.close()
            for fd in self._fds + [self._outbox]:
                os.close(fd)
        self.log.info("Stopped")
        return 0

    def _turn(self):
        """One round of supervision; False once everything has stopped."""
        if self.kill_deadline is None and self.should_stop():
            self._stop_workers()
        self._reap()
        if self.kill_deadline is None:
            self.reload_if_requested()
            self._fill_slots()
        self._finish_reload()
        if self.kill_deadline is not None:
            if not self._children():
                return False
            if time.monotonic() >= self.kill_deadline:
                for pid in self._children():
                    self._signal(pid, signal.SIGKILL)
        return True

    def _timeout(self):
        if self.kill_deadline is not None:
            return TICK                 # stopping: empty slots stay empty
        now = time.monotonic()
        due = [slot.due - now for slot in self.slots if slot.pid is None]
        return max(0.0, min([TICK] + due))

    def _drain_pipe(self, fd):
        while True:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                return
            if not data:
                return
            if fd == self._inbox:
                self._received += data
                *lines, self._received = self._received.split(b"\n")
                for line in lines:
                    self._heard(line.decode())

    def _children(self):
        return [slot.pid for slot in self.slots if slot.pid] + list(self.helpers)

    @staticmethod
    def _signal(pid, signum):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    # --- workers ------------------------------------------------------------------------

    def _fill_slots(self):
        now = time.monotonic()
        for slot in self.slots:
            if slot.pid is None and now >= slot.due:
                link = ToParent(slot.number, os.getpid(), self._outbox)
                pid = self._fork(lambda link=link: self.serve(self.conf, self.sock, link))
                if pid is None:
                    slot.due = now + max(1.0, slot.delay)
                    continue
                slot.pid, slot.started, slot.ready = pid, now, False
                self.log.info("Started worker %d (pid %d)", slot.number, pid)

    def _start_helper(self, name, body):
        def run():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, HANDLED)
            body(self.conf)
            return 0
        pid = self._fork(run)
        if pid is not None:
            self.helpers[pid] = name

    def _fork(self, body):
        """Run ``body()`` in a child process, which exits with its result; the child's pid."""
        # Blocked across fork: the child unblocks them once its own handlers are set.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED + (signal.SIGCHLD,))
        try:
            pid = os.fork()
        except OSError as exc:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            self.log.error("Cannot start a worker process: %s", exc)
            return None
        if pid:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            return pid
        status = 1
        try:
            self._become_child()
            status = body()
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException:      # noqa: B902 -- whatever it is, the child must not return
            self.log.exception("Worker process %d failed", os.getpid())
        finally:
            logging.shutdown()
            os._exit(status or 0)

    def _become_child(self):
        """Drop what only the parent uses: its wakeup pipe, selector and inbox."""
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])
        self._selector.close()
        for fd in self._fds:
            os.close(fd)
        os.environ.pop("NOTIFY_SOCKET", None)     # systemd hears the parent only

    def _reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._exited(pid, status)

    def _exited(self, pid, status):
        if pid in self.helpers:
            name = self.helpers.pop(pid)
            if status and self.kill_deadline is None:
                self.log.warning("The %s (pid %d) %s", name, pid, describe(status))
            return
        slot = next((s for s in self.slots if s.pid == pid), None)
        if slot is None:
            return
        slot.pid = None
        if self.pending is not None:
            self.pending.discard(pid)
        if self.kill_deadline is not None:
            return
        now = time.monotonic()
        lived = now - slot.started
        slot.delay = 0.0 if lived >= STABLE else min(MAX_DELAY, max(1.0, slot.delay * 2))
        slot.due = now + slot.delay
        self.log.error("Worker %d (pid %d) %s after %.1f s; starting another%s", slot.number,
                       pid, describe(status), lived,
                       f" in {slot.delay:g} s" if slot.delay else "")

    def _heard(self, line):
        word, _, pid = line.partition(" ")
        pid = int(pid) if pid.isdigit() else None
        slot = next((s for s in self.slots if s.pid == pid), None)
        if slot is None:
            return
        if word == "ready":
            slot.ready = True
            if not self.announced and all(s.ready for s in self.slots):
                self.announced = True
                self.log.info("%d workers serving", len(self.slots))
                self.link.ready()
        elif self.pending is not None and pid in self.pending:
            self.pending.discard(pid)
            if word == "unchanged":
                self.unchanged.append(pid)

    # --- signals ------------------------------------------------------------------------

    def reloaded(self, conf):
        """The parent's file is good: ask each worker to re-read it."""
        if conf is None:
            self.link.reloaded(False)
            return
        self.pending = {slot.pid for slot in self.slots if slot.pid}
        self.unchanged = []
        self.reload_deadline = time.monotonic() + RELOAD_WAIT
        for pid in self.pending:
            self._signal(pid, signal.SIGHUP)

    def _finish_reload(self):
        if self.pending is None:
            return
        if self.pending and time.monotonic() < self.reload_deadline:
            return
        if self.pending:
            self.log.warning("Workers (pid %s) did not confirm the reload within %d s",
                             ", ".join(map(str, sorted(self.pending))), RELOAD_WAIT)
        if self.unchanged:
            self.log.warning("Reloaded configuration from %s, but workers (pid %s) kept their "
                             "old settings", self.conf.path, ", ".join(map(str, self.unchanged)))
        else:
            self.log.info("Reloaded configuration from %s (%d workers)", self.conf.path,
                          len(self.slots))
        self.pending = None
        self.link.reloaded(True)

    def _stop_workers(self):
        self.link.stopping()
        self.log.info("Stopping: the workers finish the requests in flight")
        self.sock.close()      # refused once every worker has closed its copy too
        self.kill_deadline = time.monotonic() + self.conf.shutdown_timeout + KILL_AFTER
        self.pending = None
        for pid in self._children():
            self._signal(pid, signal.SIGTERM)
