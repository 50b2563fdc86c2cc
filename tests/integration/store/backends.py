"""Real Swift (SAIO, tempauth + s3api) and ``rclone serve s3`` for the store tests.

Both come from venvs that ``tests/tools/setup-backends.sh`` creates.  When
the tooling is missing the tests are skipped, unless GLANCE_TEST_REQUIRE_ALL=1
makes that a failure.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

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
    """A base port with ``count`` consecutive free ports, below the ephemeral range."""
    for base in range(20000 + os.getpid() % 5000, 32000, 7):
        try:
            for port in range(base, base + count):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
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


class Saio:
    """One Swift all-in-one: ``auth_url``, ``user``, ``key``, and S3 at ``url``."""

    user, key = "test:tester", "testing"

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = free_ports(5)
        self.url = f"http://127.0.0.1:{self.port}"
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

    def swift(self):
        """A swiftclient connection for checking what the store left in Swift."""
        from swiftclient import client
        return client.Connection(authurl=self.auth_url, user=self.user, key=self.key, retries=8,
                                 starting_backoff=0.5, max_backoff=4)


class Rclone:
    """``rclone serve s3`` over a directory: ``url``, ``access``, ``secret``."""

    access, secret = "GLANCETESTKEY", "glance/test+secret"

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.port = free_ports(1)
        self.url = f"http://127.0.0.1:{self.port}"
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


def start_saio(factory):
    reason = Saio.available()
    if reason:
        unavailable(reason)
    return Saio(factory.mktemp("saio")).start()


def start_rclone(factory):
    reason = Rclone.available()
    if reason:
        unavailable(reason)
    return Rclone(factory.mktemp("rclone")).start()
