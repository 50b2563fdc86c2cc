"""glance-control driving the real servers: daemons, pid files, signals, exit codes."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from glance.cmd.control import child_pids
from glance.registry import db
import no_system_config
from servers import APP, free_port, wait_for, write_conf


class Control:
    """Runs ``glance-control`` and remembers the pid files, to kill leftovers."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.pid_files = set()

    def __call__(self, *args, timeout=60):
        for i, arg in enumerate(args):
            if arg == "--pid-file":
                self.pid_files.add(args[i + 1])
            if arg == "--pid-dir":
                self.pid_files.update(os.path.join(args[i + 1], f"glance-{s}.pid")
                                      for s in ("api", "registry", "scrubber"))
        if "--await-child" not in args:
            args += ("--await-child", "0.7")   # the default 2 s makes the suite slow
        env = dict(os.environ, PYTHONPATH=APP, HOME=str(self.home))
        argv = no_system_config.command([sys.executable, "-m", "glance.cmd.control", *args])
        return subprocess.run(argv, cwd=self.tmp, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def cleanup(self):
        for path in self.pid_files:
            pid = read_pid(path)
            if pid and alive(pid):
                os.killpg(pid, signal.SIGKILL)    # and its workers: it leads its group


@pytest.fixture
def control(tmp_path):
    ctl = Control(tmp_path)
    yield ctl
    ctl.cleanup()


def read_pid(path):
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def alive(pid):
    """Running and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def answers(port, path):
    try:
        return requests.get(f"http://127.0.0.1:{port}{path}", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def registry_conf(tmp_path, **options):
    port = free_port()
    values = {"bind_host": "127.0.0.1", "bind_port": port, "verbose": "true",
              "sql_connection": f"sqlite:///{tmp_path}/registry.sqlite",
              "log_file": str(tmp_path / "registry.log"), **options}
    return write_conf(str(tmp_path / "glance-registry.conf"), values), port


def api_conf(tmp_path, registry_port, **options):
    port = free_port()
    values = {"bind_host": "127.0.0.1", "bind_port": port, "verbose": "true",
              "registry_host": "127.0.0.1", "registry_port": registry_port,
              "filesystem_store_datadir": str(tmp_path / "images"),
              "log_file": str(tmp_path / "api.log"), **options}
    return write_conf(str(tmp_path / "glance-api.conf"), values), port


def read(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def revision(sqlite_path):
    engine = db.make_engine(f"sqlite:///{sqlite_path}")
    try:
        return db.current_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture
def registry(control, tmp_path):
    """A glance-registry started by glance-control: ``(conf, port, pid_file)``."""
    conf, port = registry_conf(tmp_path)
    pid_file = str(tmp_path / "registry.pid")
    result = control("registry", "start", conf, "--pid-file", pid_file)
    assert result.returncode == 0, result.stdout + result.stderr
    assert wait_for(lambda: answers(port, "/images"))
    yield conf, port, pid_file
    control("registry", "stop", "--pid-file", pid_file)


# --- start, status, stop -------------------------------------------------------------

def test_start_status_stop(control, tmp_path):
    conf, port = registry_conf(tmp_path, workers=2)
    pid_file = str(tmp_path / "run" / "registry.pid")   # the directory is created

    started = control("registry", "start", conf, "--pid-file", pid_file)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"Starting glance-registry with {conf}" in started.stdout
    pid = read_pid(pid_file)
    assert pid and alive(pid)
    assert revision(tmp_path / "registry.sqlite") == db.head_revision()   # migrated first
    assert os.getsid(pid) == pid          # its own session, detached from ours
    assert wait_for(lambda: answers(port, "/images"))

    status = control("registry", "status", "--pid-file", pid_file, "--verbose")
    assert status.returncode == 0
    said, workers = status.stdout.strip().splitlines()
    assert said == f"glance-registry (pid {pid}) is running with 2 worker processes"
    children = [int(p) for p in workers.split(":")[1].split()]
    assert len(children) == 2 and all(alive(child) for child in children)

    again = control("registry", "start", conf, "--pid-file", pid_file)
    assert again.returncode == 0
    assert f"glance-registry appears to already be running: {pid_file}" in again.stdout
    assert read_pid(pid_file) == pid

    stopped = control("registry", "stop", "--pid-file", pid_file)
    assert stopped.returncode == 0
    assert f"Stopping glance-registry pid: {pid} signal: 15" in stopped.stdout
    assert not alive(pid)                  # stop waits for the exit
    assert not any(alive(child) for child in children)      # and its workers'
    assert not os.path.exists(pid_file)

    status = control("registry", "status", "--pid-file", pid_file)
    assert (status.returncode, status.stdout.strip()) == (3, "glance-registry is not running")
    nothing = control("registry", "stop", "--pid-file", pid_file)
    assert (nothing.returncode, nothing.stdout.strip()) == (0, "No glance-registry running")


def test_glance_prefix_api_serves_images_and_reload_keeps_connections(control, tmp_path,
                                                                        registry):
    _, registry_port, _ = registry
    conf, port = api_conf(tmp_path, registry_port)
    pid_file = str(tmp_path / "api.pid")
    started = control("glance-api", "start", "--config-file", conf, "--pid-file", pid_file)
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"Starting glance-api with {conf}" in started.stdout
    assert wait_for(lambda: answers(port, "/v1/images"))
    pid = read_pid(pid_file)

    created = requests.post(f"http://127.0.0.1:{port}/v1/images", data=b"x" * 4096,
                            headers={"x-image-meta-name": "ctl",
                                     "Content-Type": "application/octet-stream"}, timeout=30)
    assert created.status_code == 201
    image_id = created.json()["image"]["id"]

    # one kept-alive connection across the reload; the file is closed too, or the
    # socket's descriptor stays open after the socket's own close
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock, \
            sock.makefile("rb") as stream:
        request = (f"HEAD /v1/images/{image_id} HTTP/1.1\r\nHost: x\r\n\r\n").encode()
        sock.sendall(request)
        assert stream.readline().startswith(b"HTTP/1.1 200")
        while stream.readline() not in (b"\r\n", b""):
            pass

        reloaded = control("api", "reload", "--pid-file", pid_file)
        assert reloaded.returncode == 0
        assert f"Reloading glance-api pid: {pid} signal: 1" in reloaded.stdout
        assert wait_for(lambda: "Reloaded configuration from " + conf in read(tmp_path / "api.log"))

        sock.sendall(request)
        assert stream.readline().startswith(b"HTTP/1.1 200")
    assert read_pid(pid_file) == pid and alive(pid)

    assert control("api", "stop", "--pid-file", pid_file).returncode == 0
    assert not alive(pid)


def test_reload_applies_new_log_settings(control, tmp_path, registry):
    conf, port, pid_file = registry
    moved = tmp_path / "moved.log"
    with open(conf, "a", encoding="utf-8") as handle:
        handle.write(f"log_file = {moved}\n")
    assert control("registry", "reload", "--pid-file", pid_file).returncode == 0
    assert wait_for(lambda: moved.exists() and "Reloaded configuration from" in read(moved))
    assert answers(port, "/images")
    assert wait_for(lambda: "GET /images" in read(moved))


def test_restart_starts_a_new_process(control, registry):
    conf, port, pid_file = registry
    before = read_pid(pid_file)
    result = control("registry", "restart", conf, "--pid-file", pid_file)
    assert result.returncode == 0, result.stdout
    assert f"Stopping glance-registry pid: {before} signal: 15" in result.stdout
    assert f"Starting glance-registry with {conf}" in result.stdout
    after = read_pid(pid_file)
    assert after != before and alive(after) and not alive(before)
    assert wait_for(lambda: answers(port, "/images"))


def test_reload_of_a_stopped_server_is_lsb_7(control, tmp_path):
    result = control("registry", "reload", "--pid-file", str(tmp_path / "none.pid"))
    assert (result.returncode, result.stdout.strip()) == (7, "No glance-registry running")


# --- stale pid files -------------------------------------------------------------------

def test_stale_pid_file_of_a_dead_process(control, tmp_path):
    conf, port = registry_conf(tmp_path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    pid_file = tmp_path / "registry.pid"
    pid_file.write_text(f"{dead.pid}\n")

    status = control("registry", "status", "--pid-file", str(pid_file))
    assert status.returncode == 1
    assert f"dead, but its pid file {pid_file} exists" in status.stdout

    started = control("registry", "start", conf, "--pid-file", str(pid_file))
    assert started.returncode == 0
    assert f"Removing stale pid file {pid_file}" in started.stdout
    assert read_pid(pid_file) != dead.pid
    assert wait_for(lambda: answers(port, "/images"))
    assert control("registry", "stop", "--pid-file", str(pid_file)).returncode == 0


def test_a_reused_pid_is_not_signalled(control, tmp_path):
    other = subprocess.Popen(["sleep", "60"])
    try:
        pid_file = tmp_path / "registry.pid"
        pid_file.write_text(f"{other.pid}\n")
        stopped = control("registry", "stop", "--pid-file", str(pid_file))
        assert stopped.returncode == 0
        assert f"Removing stale pid file {pid_file}" in stopped.stdout
        assert other.poll() is None            # the unrelated process lives on
        assert not pid_file.exists()
    finally:
        other.kill()
        other.wait()


# --- stop escalates to SIGKILL ---------------------------------------------------------------

def test_stop_sends_sigkill_after_the_timeout(control, tmp_path, registry):
    _, registry_port, _ = registry
    conf, port = api_conf(tmp_path, registry_port, shutdown_timeout=60)
    pid_file = str(tmp_path / "api.pid")
    assert control("api", "start", conf, "--pid-file", pid_file).returncode == 0
    assert wait_for(lambda: answers(port, "/v1/images"))
    pid = read_pid(pid_file)
    workers = child_pids(pid)
    # an upload that never finishes keeps the server from exiting on SIGTERM
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /v1/images HTTP/1.1\r\nHost: x\r\nx-image-meta-name: stuck\r\n"
                     b"Content-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n"
                     + b"x" * 1024)
        time.sleep(0.5)
        begun = time.monotonic()
        stopped = control("api", "stop", "--pid-file", pid_file, "--kill-after", "2")
        took = time.monotonic() - begun
    assert stopped.returncode == 0, stopped.stdout
    assert f"Waited 2 seconds for pid {pid} (glance-api) to die; sending signal 9" in stopped.stdout
    assert not alive(pid) and not os.path.exists(pid_file)
    assert workers and wait_for(lambda: not any(alive(w) for w in workers), timeout=5), \
        "a worker outlived SIGKILL"
    assert 2 <= took < 15


# --- start failures ------------------------------------------------------------------------

def test_invalid_config_is_reported_and_nothing_starts(control, tmp_path):
    conf, _ = registry_conf(tmp_path, bind_port="abc")
    pid_file = tmp_path / "registry.pid"
    result = control("registry", "start", conf, "--pid-file", str(pid_file))
    assert result.returncode == 6
    assert "Invalid value for option bind_port" in result.stdout
    assert not pid_file.exists()


def test_port_in_use_is_reported(control, tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        conf, _ = registry_conf(tmp_path, bind_port=busy.getsockname()[1])
        result = control("registry", "start", conf, "--pid-file", str(tmp_path / "r.pid"))
    assert result.returncode == 1
    assert "Cannot listen on 127.0.0.1:" in result.stdout


def test_a_server_dying_during_start_fails_the_start(control, tmp_path):
    # only the server finds out: keystone mode without the [keystone_authtoken] credentials
    conf, _ = registry_conf(tmp_path, auth_strategy="keystone")
    pid_file = tmp_path / "registry.pid"
    result = control("registry", "start", conf, "--pid-file", str(pid_file), "--await-child", "10")
    assert result.returncode == 1, result.stdout
    assert "died during start: exit status" in result.stdout
    assert f"Last lines of {tmp_path / 'registry.log'}:" in result.stdout
    assert not pid_file.exists()


def test_a_failed_migration_starts_no_registry(control, tmp_path):
    # glance-manage db_sync cannot open the database: its directory does not exist
    conf, port = registry_conf(tmp_path, sql_connection=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    pid_file = tmp_path / "registry.pid"
    result = control("registry", "start", conf, "--pid-file", str(pid_file))
    assert result.returncode == 1, result.stdout
    said = result.stdout.strip().splitlines()
    assert len(said) == 1 and said[0].startswith(
        "glance-manage db_sync failed, glance-registry not started: ERROR: "), said
    assert not pid_file.exists() and not answers(port, "/images")


def test_no_configuration_file(control, tmp_path):
    result = control("registry", "start", "--pid-file", str(tmp_path / "r.pid"))
    assert (result.returncode, result.stdout.strip()) == (
        6, "Could not find any configuration file to use!")


def test_config_is_found_by_the_servers_search(control, tmp_path):
    conf, port = registry_conf(tmp_path)      # ./glance-registry.conf in the cwd
    pid_file = str(tmp_path / "r.pid")
    result = control("registry", "start", "--pid-file", pid_file)
    assert result.returncode == 0
    assert f"Starting glance-registry with {conf}" in result.stdout
    assert wait_for(lambda: answers(port, "/images"))
    assert control("registry", "stop", "--pid-file", pid_file).returncode == 0


# --- usage ------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (("foo", "start"), "Unknown server 'foo' specified. Please specify all, or one of the "
                       "servers: api, registry, scrubber"),
    (("api", "explode"), "Unknown command 'explode' specified."),
    (("api",), "usage: glance-control"),
    (("all", "status", "--pid-file", "x.pid"), "cannot be used with 'all'"),
])
def test_usage_errors_exit_2(control, args, message):
    result = control(*args)
    assert result.returncode == 2
    assert message in result.stdout + result.stderr


# --- all, and the scrubber ---------------------------------------------------------------------

def test_all_starts_registry_api_and_scrubber(control, tmp_path):
    registry_port, api_port = free_port(), free_port()
    conf = str(tmp_path / "glance.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write(f"""[DEFAULT]
bind_host = 127.0.0.1
verbose = true
sql_connection = sqlite:///{tmp_path}/glance.sqlite
filesystem_store_datadir = {tmp_path}/images
registry_host = 127.0.0.1
registry_port = {registry_port}
wakeup_time = 1

[app:glance-registry]
bind_port = {registry_port}
log_file = {tmp_path}/registry.log

[app:glance-api]
bind_port = {api_port}
log_file = {tmp_path}/api.log

[app:glance-scrubber]
log_file = {tmp_path}/scrubber.log
""")
    run = str(tmp_path / "run")
    started = control("all", "start", conf, "--pid-dir", run)
    assert started.returncode == 0, started.stdout
    names = [line.split()[1] for line in started.stdout.splitlines() if line.startswith("Starting")]
    assert names == ["glance-registry", "glance-api", "glance-scrubber"]
    assert wait_for(lambda: answers(api_port, "/v1/images"))
    pids = {name: read_pid(os.path.join(run, name + ".pid")) for name in names}
    assert all(alive(pid) for pid in pids.values())

    assert control("all", "status", "--pid-dir", run).returncode == 0
    os.kill(pids["glance-scrubber"], signal.SIGKILL)
    assert wait_for(lambda: not alive(pids["glance-scrubber"]))
    assert control("all", "status", "--pid-dir", run).returncode == 1   # one dead

    restarted = control("scrubber", "start", conf, "--pid-dir", run)
    assert restarted.returncode == 0, restarted.stdout
    assert "Removing stale pid file" in restarted.stdout
    first = read_pid(os.path.join(run, "glance-scrubber.pid"))
    # the scrubber cannot reload: it is restarted
    reloaded = control("scrubber", "reload", conf, "--pid-dir", run)
    assert reloaded.returncode == 0, reloaded.stdout
    assert "Starting glance-scrubber" in reloaded.stdout
    scrubber = read_pid(os.path.join(run, "glance-scrubber.pid"))
    assert scrubber != first and alive(scrubber) and not alive(first)

    stopped = control("all", "stop", "--pid-dir", run)
    assert stopped.returncode == 0
    order = [line.split()[1] for line in stopped.stdout.splitlines() if line.startswith("Stopping")]
    assert order == ["glance-scrubber", "glance-api", "glance-registry"]
    assert not any(alive(pid) for pid in (pids["glance-api"], pids["glance-registry"], scrubber))
    assert control("all", "status", "--pid-dir", run).returncode == 3


def test_default_pid_dir(monkeypatch, tmp_path):
    from glance.cmd import control as ctl
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert ctl.default_pid_dir() == "/var/run/glance"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert ctl.default_pid_dir() == str(tmp_path / "glance")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert ctl.default_pid_dir() == str(tmp_path / "home" / ".glance" / "run")
