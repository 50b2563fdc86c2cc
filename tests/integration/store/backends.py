"""Real Swift (SAIO, tempauth + s3api) and ``rclone serve s3`` for the store tests.

Both come from venvs that ``tests/tools/setup-backends.sh`` creates.  When
the tooling is missing the tests are skipped, unless GLANCE_TEST_REQUIRE_ALL=1
makes that a failure.  Also the helpers the Swift and S3 store tests share.
"""
import io
import os
import shutil
import signal
import socket
import subprocess
import threading
import time

import pytest

from contract.store import Trickle, new_id
from glance.config import load_config
from glance.store import base

TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = os.path.dirname(TESTS)
SAIO = os.path.join(TESTS, "tools", "saio.sh")
SWIFT_VENV = os.environ.get("GLANCE_TEST_SWIFT_VENV", os.path.join(REPO, ".venv-swift"))
RCLONE = os.path.join(os.environ.get("GLANCE_TEST_RCLONE_VENV", os.path.join(REPO, ".venv-rclone")),
                      "bin", "rclone")


def unavailable(reason):
    """Skip, or fail when every backend is required."""
    if os.environ.get("GLANCE_TEST_REQUIRE_ALL") == "1":
        pytest.fail(f"{reason} (GLANCE_TEST_REQUIRE_ALL=1); run tests/tools/setup-backends.sh")
    pytest.skip(f"{reason}; run tests/tools/setup-backends.sh")


def free_ports(count):
    """A base port with ``count`` consecutive free ports, below the ephemeral range.

    Each xdist worker searches its own thousand ports first: two workers starting
    Swift at once must not both find the same block free."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
    start = 20000 + int(worker or 0) % 12 * 1000 + os.getpid() % 100 * 7
    for first in range(start, 32000, 7):
        try:
            for port in range(first, first + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no free port block")


def wait_port(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {port}")


class Backend:
    """A server on 127.0.0.1 with a work directory of its own; S3 keys in ``s3_keys``."""

    ports = 1          # consecutive ports it listens on

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = free_ports(self.ports)
        self.url = f"http://127.0.0.1:{self.port}"

    @classmethod
    def started(cls, factory):
        """A running server in a new temporary directory, or skip (see :func:`unavailable`)."""
        reason = cls.available()
        if reason:
            unavailable(reason)
        return cls(factory.mktemp(cls.__name__.lower())).start()

    @classmethod
    def fixture(cls, scope):
        """A fixture named after the class: started on first use, stopped after ``scope``."""
        @pytest.fixture(scope=scope, name=cls.__name__.lower())
        def server(tmp_path_factory):
            started = cls.started(tmp_path_factory)
            yield started
            started.stop()
        return server


class Saio(Backend):
    """One Swift all-in-one: ``auth_url``, ``user``, ``key``, and S3 at ``url``."""

    user, key = "test:tester", "testing"
    s3_keys = (user, key)          # s3api takes the tempauth account as its keys
    other_user, other_key = "tenant2:reader", "secondkey"     # another account
    ports = 5

    def __init__(self, workdir):
        super().__init__(workdir)
        self.auth_url = self.url + "/auth/v1.0"

    @staticmethod
    def available():
        if not os.path.exists(os.path.join(SWIFT_VENV, "bin", "swift-proxy-server")):
            return f"no Swift in {SWIFT_VENV}"
        if not shutil.which("memcached") and not os.path.exists("/usr/bin/memcached"):
            return "no memcached"
        return None

    def _run(self, *args):
        result = subprocess.run(["bash", SAIO, *args], capture_output=True, text=True, timeout=120)
        if result.returncode:
            raise RuntimeError(f"saio.sh {' '.join(args)} failed:\n{result.stdout}{result.stderr}")

    def start(self):
        try:
            self._run("start", self.dir, str(self.port))
        except Exception:
            self.stop()
            logs = os.path.join(self.dir, "log")
            text = "".join(f"--- {name}\n" + open(os.path.join(logs, name)).read()[-2000:]
                           for name in sorted(os.listdir(logs)))
            raise RuntimeError(f"Swift did not start on port {self.port}:\n{text}") from None
        return self

    def stop(self):
        self._run("stop", self.dir)

    def stop_proxy(self):
        self._run("proxy-stop", self.dir)

    def start_proxy(self):
        self._run("proxy-start", self.dir)

    def swift(self, user=None, key=None):
        """A swiftclient connection for checking what the store left in Swift."""
        from swiftclient import client
        return client.Connection(authurl=self.auth_url, user=user or self.user,
                                 key=key or self.key, retries=8, starting_backoff=0.5,
                                 max_backoff=4)


class Rclone(Backend):
    """``rclone serve s3`` over a directory: ``url``, ``access``, ``secret``."""

    access, secret = "GLANCETESTKEY", "glance/test+secret"
    s3_keys = (access, secret)

    def __init__(self, workdir):
        super().__init__(workdir)
        self.proc = None
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)

    @staticmethod
    def available():
        return None if os.path.exists(RCLONE) else f"no rclone at {RCLONE}"

    def start(self):
        log = open(os.path.join(self.dir, "rclone.log"), "ab")
        self.proc = subprocess.Popen(
            [RCLONE, "serve", "s3", "--addr", f"127.0.0.1:{self.port}", "--config", os.devnull,
             "--auth-key", f"{self.access},{self.secret}", os.path.join(self.dir, "data")],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_port(self.port)
        return self

    def stop(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)


def s3_client(url, access, secret):
    """A boto3 client for checking what the store left in a bucket."""
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=url, aws_access_key_id=access,
                        aws_secret_access_key=secret, region_name="us-east-1",
                        config=Config(s3={"addressing_style": "path"},
                                      retries={"max_attempts": 10, "mode": "standard"}))



class Listener:
    """A fake "other host" on 127.0.0.1: records every connection and the bytes sent
    to it (``requests``), answers 401 and closes."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.requests = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                data = b""
                try:
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n"
                                 b"Connection: close\r\n\r\n")
                except OSError:
                    pass
                self.requests.append(data)

    def close(self):
        self.sock.close()


class Outage:
    """Call it to stop a backend; it starts again in the background after ``delay`` s.

    ``restarted`` is set once it is back: wait for it before the next test.
    """

    def __init__(self, stop, start, delay=0.0):
        self.stop, self.start, self.delay = stop, start, delay
        self.restarted = threading.Event()

    def __call__(self):
        self.stop()
        threading.Thread(target=self._restart, daemon=True).start()

    def _restart(self):
        time.sleep(self.delay)
        self.start()
        self.restarted.set()


class DyingAt(Trickle):
    """A request body that calls ``kill`` once, when ``at`` bytes have gone out."""

    def __init__(self, data, at, kill):
        super().__init__(data)
        self.at, self.kill = at, kill

    def read(self, size=-1):
        if self.pos >= self.at and self.kill:
            kill, self.kill = self.kill, None
            kill()
        return super().read(size)


def failed_add(store, error=base.StoreError, match=None):
    """Upload four bytes, which must fail with ``error``; returns the exception."""
    with pytest.raises(error, match=match) as info:
        store.add(new_id(), io.BytesIO(b"data"), 4)
    return info.value


def not_configured(store_class, **options):
    """The NotConfigured message of ``store_class`` built from ``options`` alone."""
    conf = load_config("glance-api", overrides=options)
    with pytest.raises(base.NotConfigured) as error:
        store_class.from_config(conf)
    return str(error.value)
