"""glance-registry as an operator runs it: config search, bad values, logging, signals."""
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests
import sqlalchemy as sa
from alembic import command

from glance.registry import db
import no_system_config
from servers import APP, Server, free_port, migrate, wait_for, wait_for_port, write_conf

REQUEST_LINE = re.compile(r"GET /images\?limit=1 200 \d+ \d+\.\d+s")
NOT_FOUND = ("ERROR: Unable to locate any configuration file. "
             "Cannot load application glance-registry")


def run_registry(args, cwd, home, timeout=30):
    """Run glance-registry expecting it to stop at once (a configuration error)."""
    env = dict(os.environ, PYTHONPATH=APP, HOME=str(home))
    argv = no_system_config.command([sys.executable, "-m", "glance.cmd.registry", *args])
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def registry(tmp_path, *args, **options):
    opts = {"sql_connection": f"sqlite:///{tmp_path}/registry.sqlite", **options}
    return Server("glance-registry", tmp_path, opts, args=args).start()


def read(path):
    if not os.path.exists(path):
        return ""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def logs_request(server, path):
    """GET /images?limit=1 from ``server``, then wait for its line in the log file ``path``."""
    server.get("/images?limit=1")
    return wait_for(lambda: REQUEST_LINE.search(read(path)))


@pytest.fixture
def dirs(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    (home / ".glance").mkdir(parents=True)
    cwd.mkdir()
    return home, cwd


# --- configuration file search and bad values -----------------------------------

def test_no_configuration_file_found(dirs):
    home, cwd = dirs
    result = run_registry([], cwd, home)
    assert (result.returncode, result.stderr.strip(), result.stdout) == (1, NOT_FOUND, "")


# Each candidate holds a bad bind_port, so the error names the file that was read.
@pytest.mark.parametrize("present, winner", [
    (["cwd/glance-registry.conf", "home/.glance/glance-registry.conf",
      "home/glance-registry.conf"], "cwd/glance-registry.conf"),
    (["home/.glance/glance-registry.conf", "home/glance-registry.conf"],
     "home/.glance/glance-registry.conf"),
    (["home/glance-registry.conf", "cwd/glance.conf"], "home/glance-registry.conf"),
    (["cwd/glance.conf", "home/.glance/glance.conf", "home/glance.conf"], "cwd/glance.conf"),
    (["home/.glance/glance.conf", "home/glance.conf"], "home/.glance/glance.conf"),
    (["home/glance.conf"], "home/glance.conf"),
])
def test_search_order(dirs, present, winner):
    home, cwd = dirs
    root = home.parent
    for name in present:
        write_conf(root / name, {"bind_port": "abc"})
    result = run_registry([], cwd, home)
    path = root / winner
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ERROR: Invalid value for option bind_port in {path}: 'abc' is not an integer"]


@pytest.mark.parametrize("how", ["--config-file", "--config_file", "positional"])
def test_named_file_beats_the_search(dirs, how):
    home, cwd = dirs
    write_conf(cwd / "glance-registry.conf", {"bind_port": "abc"})
    mine = write_conf(home / "mine.conf", {"bind_port": "99999"})
    args = [str(mine)] if how == "positional" else [how, str(mine)]
    result = run_registry(args, cwd, home)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ERROR: Invalid value for option bind_port in {mine}: "
        "99999 is not a port number (1-65535)"]


def test_bad_value_in_app_section_is_one_line(dirs):
    home, cwd = dirs
    conf = cwd / "glance-registry.conf"
    conf.write_text("[DEFAULT]\nverbose = true\n[app:glance-registry]\nbind_port = abc\n")
    result = run_registry([], cwd, home)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"ERROR: Invalid value for option bind_port in {conf}: 'abc' is not an integer"]


def test_unusable_sql_connection_is_one_line(dirs):
    home, cwd = dirs
    write_conf(cwd / "glance-registry.conf", {"sql_connection": "nosuchdb://x:pw@host/db"})
    result = run_registry([], cwd, home)
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("ERROR: Cannot use sql_connection")
    assert "pw" not in result.stderr.replace("nosuchdb", "")


def test_busy_port_is_one_line(dirs):
    home, cwd = dirs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        conf = write_conf(cwd / "glance-registry.conf", {
            "bind_host": "127.0.0.1", "bind_port": port, "sql_connection": "sqlite:///r.sqlite"})
        migrate(conf, cwd)
        result = run_registry([], cwd, home)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"ERROR: Cannot listen on 127.0.0.1:{port}: Address already in use"]


# --- the database schema: glance-manage db_sync's job, never the registry's ------------

def _empty(engine):          # never migrated
    del engine


def _older(engine):
    with engine.begin() as conn:
        command.upgrade(db._alembic_config(conn), "0001")


def _unversioned(engine):     # the tables of an older glance's create_all, no revision
    db.db_sync(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE alembic_version")


def _unknown(engine):         # written by a newer glance
    db.db_sync(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")


@pytest.mark.parametrize("make, said", [
    (_empty, "ERROR: The database has no glance schema: run glance-manage db_sync before "
             "glance-registry"),
    (_older, "ERROR: The database schema is at revision 0001, this glance needs {head}: run "
             "glance-manage db_sync before glance-registry"),
    (_unversioned, "ERROR: The database has the tables of an older glance but no schema "
                   "revision: run glance-manage db_sync before glance-registry"),
    (_unknown, "ERROR: The database schema is at revision 9999, unknown to this glance "
               "(newest {head}): a newer glance's glance-manage db_sync wrote it"),
], ids=["empty", "older", "unversioned", "unknown"])
def test_a_database_not_at_the_newest_schema_is_refused_and_left_alone(dirs, make, said):
    home, cwd = dirs
    path = cwd / "r.sqlite"
    engine = db.make_engine(f"sqlite:///{path}")
    make(engine)
    before = (sorted(sa.inspect(engine).get_table_names()), db.current_revision(engine))
    write_conf(cwd / "glance-registry.conf", {"bind_host": "127.0.0.1", "bind_port": free_port(),
                                              "sql_connection": f"sqlite:///{path}"})
    result = run_registry([], cwd, home)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [said.format(head=db.head_revision())]
    engine.dispose()
    engine = db.make_engine(f"sqlite:///{path}")
    assert (sorted(sa.inspect(engine).get_table_names()), db.current_revision(engine)) == before
    engine.dispose()


def test_the_refusal_is_one_line_in_the_log_file_too(dirs):
    home, cwd = dirs
    log = cwd / "registry.log"
    write_conf(cwd / "glance-registry.conf", {"bind_port": free_port(), "verbose": "true",
                                              "sql_connection": "sqlite:///r.sqlite",
                                              "log_file": str(log)})
    result = run_registry([], cwd, home)
    said = "The database has no glance schema: run glance-manage db_sync before glance-registry"
    assert result.returncode == 1 and result.stderr.splitlines() == [f"ERROR: {said}"]
    lines = log.read_text().splitlines()
    assert len(lines) == 1 and lines[0].endswith(f"ERROR [glance.registry.server] {said}"), lines


def test_the_registry_serves_once_glance_manage_migrated(dirs):
    home, cwd = dirs
    port = free_port()
    conf = write_conf(cwd / "glance-registry.conf", {"bind_host": "127.0.0.1", "bind_port": port,
                                                     "sql_connection": "sqlite:///r.sqlite"})
    assert run_registry([], cwd, home).returncode == 1
    env = dict(os.environ, PYTHONPATH=APP, HOME=str(home))
    manage = subprocess.run([sys.executable, "-m", "glance.cmd.manage", "--config-file", str(conf),
                             "db_sync"], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=60)
    assert manage.returncode == 0, manage.stderr
    proc = subprocess.Popen([sys.executable, "-m", "glance.cmd.registry"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        assert requests.get(f"http://127.0.0.1:{port}/images", timeout=10).status_code == 200
    finally:
        proc.terminate()
        assert proc.wait(30) == 0


# --- logging -----------------------------------------------------------------------

@pytest.mark.parametrize("spelling", ["-", "_"])
def test_every_logging_flag_is_accepted(dirs, spelling):
    """Both spellings parse (the tests above show each flag working in one of them)."""
    home, cwd = dirs
    conf = write_conf(cwd / "glance-registry.conf", {"bind_port": "abc"})
    flags = [f"--{name.replace('_', spelling)}" for name in (
        "log_file", "log_dir", "log_config", "log_format", "log_date_format")]
    args = [arg for flag in flags for arg in (flag, "x")]
    args += ["-v", "-d", "--verbose", "--debug", f"--use{spelling}syslog"]
    result = run_registry(args, cwd, home)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == [
        f"ERROR: Invalid value for option bind_port in {conf}: 'abc' is not an integer"]


def test_quiet_by_default(tmp_path):
    server = registry(tmp_path)
    try:
        assert server.get("/images?limit=1").status_code == 200
    finally:
        assert server.stop() == 0
    assert not REQUEST_LINE.search(server.logtext())


@pytest.mark.parametrize("flag", ["-v", "--debug"])
def test_each_request_is_logged_once(tmp_path, flag):
    server = registry(tmp_path, flag)
    try:
        assert server.get("/images?limit=1").status_code == 200
        assert wait_for(lambda: REQUEST_LINE.search(server.logtext()))
    finally:
        assert server.stop() == 0
    text = server.logtext()
    assert len(REQUEST_LINE.findall(text)) == 1
    assert re.search(r" INFO \[glance\.registry\] GET /images\?limit=1 200 ", text)
    assert ("DEBUG" in text) == (flag == "--debug")


def test_debug_logs_options_once_with_password_masked(tmp_path):
    url = "mysql+pymysql://glance:s3cret@127.0.0.1:1/glance"
    conf = write_conf(tmp_path / "r.conf", {"sql_connection": url, "bind_port": free_port()})
    result = run_registry(["--debug", "--config-file", str(conf)], tmp_path, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "s3cret" not in output
    assert output.count("sql_connection = ") == 1
    assert "sql_connection = 'mysql+pymysql://glance:***@127.0.0.1:1/glance'" in output
    assert result.stderr.splitlines()[-1].startswith("ERROR: Cannot use the database:")


def test_log_file(tmp_path):
    path = tmp_path / "out.log"
    server = registry(tmp_path, "--verbose", "--log_file", str(path))
    try:
        assert logs_request(server, path)
    finally:
        server.stop()
    assert not REQUEST_LINE.search(server.logtext())


def test_log_dir(tmp_path):
    logs = tmp_path / "logs"
    logs.mkdir()
    server = registry(tmp_path, "-v", "--log_dir", str(logs))
    other = Server("glance-registry", tmp_path / "second", None,
                   args=["-d", "--log-dir", str(logs), "--log-file", "named.log"])
    (tmp_path / "second").mkdir()
    other.options["sql_connection"] = f"sqlite:///{tmp_path}/second/r.sqlite"
    other.start()
    try:
        assert logs_request(server, logs / "glance-registry.log")
        assert logs_request(other, logs / "named.log")
    finally:
        server.stop()
        other.stop()


def test_log_format_and_date_format(tmp_path):
    server = registry(tmp_path, "-v", "--log-format", "%(asctime)s|%(name)s|%(message)s",
                      "--log_date_format", "%Y@")
    try:
        server.get("/images?limit=1")
        year = time.strftime("%Y")
        assert wait_for(lambda: re.search(
            rf"^{year}@\|glance\.registry\|GET /images\?limit=1 200 ", server.logtext(), re.M))
    finally:
        server.stop()


def test_log_config(tmp_path):
    target = tmp_path / "from-config.log"
    config = tmp_path / "logging.ini"
    config.write_text(f"""[loggers]
keys = root

[handlers]
keys = file

[formatters]
keys = plain

[logger_root]
level = INFO
handlers = file

[handler_file]
class = FileHandler
args = ({str(target)!r},)
formatter = plain

[formatter_plain]
format = CFG %(name)s %(message)s
""")
    # The other logging options are ignored when a logging config is given.
    server = registry(tmp_path, "--log_config", str(config),
                      "--log-file", str(tmp_path / "ignored.log"))
    try:
        server.get("/images?limit=1")
        assert wait_for(lambda: re.search(r"^CFG glance\.registry GET /images\?limit=1 200 ",
                                          read(target), re.M))
    finally:
        server.stop()
    assert not (tmp_path / "ignored.log").exists()


def test_use_syslog(tmp_path):
    if os.path.exists("/dev/log"):
        pytest.skip("/dev/log exists: syslog goes there, not to a socket this test can read")
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.bind(("127.0.0.1", 514))
    except OSError as exc:
        receiver.close()
        pytest.skip(f"cannot listen on the syslog port: {exc}")
    receiver.settimeout(10)
    try:
        server = registry(tmp_path, "-v", "--use-syslog")
        try:
            server.get("/images?limit=1")
            seen = b""
            while not REQUEST_LINE.search(seen.decode(errors="replace")):
                seen += receiver.recv(65536) + b"\n"
        finally:
            server.stop()
    finally:
        receiver.close()
    assert not REQUEST_LINE.search(server.logtext())


def test_logrotate_moves_the_file(tmp_path):
    path = tmp_path / "registry.log"
    server = registry(tmp_path, "-v", "--log-file", str(path))
    try:
        assert logs_request(server, path)
        os.rename(path, tmp_path / "registry.log.1")
        server.get("/images?limit=2")
        assert wait_for(lambda: "GET /images?limit=2 200" in read(path))
    finally:
        server.stop()
    assert "limit=2" not in read(tmp_path / "registry.log.1")
    assert "limit=1 " not in read(path)


# --- signals -----------------------------------------------------------------------

def test_sighup_rereads_logging_settings(tmp_path):
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    server = registry(tmp_path, log_file=str(first), verbose="true")
    session = requests.Session()
    try:
        assert session.get(server.url + "/images?limit=1").status_code == 200
        assert wait_for(lambda: REQUEST_LINE.search(read(first)))
        write_conf(server.conf, {**server.options, "log_file": str(second), "verbose": "true"})
        server.proc.send_signal(signal.SIGHUP)
        # Each worker logs its own reload; the parent's line "(N workers)" comes once all
        # have switched, and only then is every worker logging to the new file.
        done = re.compile(rf"Reloaded configuration from {re.escape(str(server.conf))} "
                          r"\(\d+ workers\)")
        assert wait_for(lambda: done.search(read(second)))
        assert session.get(server.url + "/images?limit=1").status_code == 200
        assert wait_for(lambda: REQUEST_LINE.search(read(second)))
        assert server.proc.poll() is None
    finally:
        assert server.stop() == 0
    assert len(REQUEST_LINE.findall(read(first))) == 1


def test_sigterm_lets_requests_in_flight_finish(tmp_path):
    db = tmp_path / "registry.sqlite"
    server = registry(tmp_path)
    server.get("/images")   # the schema exists
    lock = sqlite3.connect(db, timeout=30)
    lock.execute("BEGIN EXCLUSIVE")   # the next write waits for this lock
    answers = []
    writer = threading.Thread(target=lambda: answers.append(requests.post(
        server.url + "/images", json={"image": {"name": "late"}}, timeout=30)))
    writer.start()
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    try:
        assert server.proc.poll() is None          # still finishing the write
        with pytest.raises(requests.ConnectionError):
            requests.get(server.url + "/images", timeout=5)   # no longer accepting
    finally:
        lock.rollback()
        lock.close()
    writer.join(30)
    assert answers and answers[0].status_code == 200
    assert answers[0].json()["image"]["name"] == "late"
    assert server.proc.wait(15) == 0
