"""delayed_delete leaves data for glance-scrubber, which removes it after scrub_time."""
import os
import signal
import subprocess
import sys

import pytest

import no_system_config
from servers import APP, free_port, wait_for, write_conf


@pytest.fixture(scope="module")
def delayed(start_api, api_for):
    return api_for(start_api(delayed_delete="true"))


def run_scrubber(tmp_path, registry_server, datadir, scrub_time):
    conf = write_conf(tmp_path / "glance-scrubber.conf", {
        "sql_connection": registry_server.options["sql_connection"],
        "filesystem_store_datadir": datadir,
        "scrub_time": scrub_time,
        "verbose": "true",
    })
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf)],
                          env=env, capture_output=True, text=True, timeout=60)


def test_delayed_delete_then_scrub(delayed, registry_server, tmp_path):
    created = delayed.create(data=b"x" * 4096, name="doomed").json()["image"]
    image_id = created["id"]
    assert delayed.request("DELETE", f"/v1/images/{image_id}").status_code == 200
    assert delayed.status(image_id) == "pending_delete"
    assert image_id in delayed.files(), "delayed_delete must leave the data for the scrubber"
    assert delayed.request("GET", f"/v1/images/{image_id}").status_code == 404

    early = run_scrubber(tmp_path, registry_server, delayed.server.datadir, 3600)
    assert early.returncode == 0, early.stderr
    assert image_id in delayed.files(), "data removed before scrub_time passed"

    done = run_scrubber(tmp_path, registry_server, delayed.server.datadir, 0)
    assert done.returncode == 0, done.stderr
    assert f"Scrubbed image {image_id}" in done.stderr
    assert image_id not in delayed.files()
    assert delayed.status(image_id) == "deleted"


def test_scrubber_without_config_fails_cleanly(tmp_path):
    env = dict(os.environ, PYTHONPATH=APP, HOME=str(tmp_path))
    result = subprocess.run(no_system_config.command([sys.executable, "-m", "glance.cmd.scrubber"]),
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == ("ERROR: Unable to locate any configuration file. "
                                     "Cannot load application glance-scrubber")


def test_scrubber_bad_sql_connection_fails_cleanly(tmp_path):
    conf = write_conf(tmp_path / "glance-scrubber.conf",
                      {"sql_connection": "nosuch://glance:se/cret@db/glance"})
    env = dict(os.environ, PYTHONPATH=APP)
    result = subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf)],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: Cannot use sql_connection 'nosuch://glance:***@db/")
    assert "se/cret" not in result.stderr and "Traceback" not in result.stderr


def test_scrubber_with_the_database_down(tmp_path):
    """One run ends with one line; the daemon logs, keeps running and stops on SIGTERM."""
    down = f"mysql+pymysql://glance:pa55@127.0.0.1:{free_port()}/glance"
    env = dict(os.environ, PYTHONPATH=APP)
    conf = write_conf(tmp_path / "once.conf", {"sql_connection": down})
    once = subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf)],
                          env=env, capture_output=True, text=True, timeout=60)
    assert once.returncode == 1
    assert once.stderr.startswith("ERROR: Scrub failed: ") and "Traceback" not in once.stderr
    assert "pa55" not in once.stderr

    log = tmp_path / "daemon.log"
    conf = write_conf(tmp_path / "daemon.conf", {"sql_connection": down, "daemon": "true",
                                                 "wakeup_time": 1, "log_file": str(log)})
    daemon = subprocess.Popen([sys.executable, "-m", "glance.cmd.scrubber", str(conf)], env=env)
    try:
        assert wait_for(lambda: log.exists() and log.read_text().count("Scrub failed") >= 2)
        assert daemon.poll() is None
    finally:
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(10) == 0
    assert "pa55" not in log.read_text()
