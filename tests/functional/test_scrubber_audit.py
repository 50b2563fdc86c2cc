"""glance-scrubber --audit: stored data that rotted is found, marked, logged and
notified, and its next download fails at once; sound images stay as they were."""
import hashlib
import json
import os
import subprocess
import sys

import requests

from functional.stores import download
from glance.audit import Auditor
from servers import APP, write_conf

MiB = 1024 * 1024


def run_audit(tmp_path, registry_server, datadir):
    conf = write_conf(tmp_path / "glance-scrubber.conf", {
        "sql_connection": registry_server.options["sql_connection"],
        "filesystem_store_datadir": datadir, "notifier_strategy": "logging",
        "scrub_audit_rate": 0, "verbose": "true"})
    env = dict(os.environ, PYTHONPATH=APP)
    return subprocess.run([sys.executable, "-m", "glance.cmd.scrubber", str(conf), "--audit"],
                          env=env, capture_output=True, text=True, timeout=120)


def _meta(api, image_id):
    return {k: v for k, v in api.head(image_id).headers.items()
            if k.lower().startswith("x-image-meta-")}


def _create(api, data):
    created = api.create(data=data, name="audited", disk_format="raw", container_format="bare",
                         is_public=True)
    assert created.status_code == 201, created.text
    return created.json()["image"]["id"]


def test_audit_marks_rotten_data_and_downloads_fail_at_once(api, registry_server, tmp_path):
    good, bad = os.urandom(2 * MiB + 1), os.urandom(2 * MiB + 1)
    good_id, bad_id = _create(api, good), _create(api, bad)
    with open(os.path.join(api.server.datadir, bad_id), "r+b") as handle:
        handle.seek(MiB)
        handle.write(b"\0" * 4)                  # same size, 4 bytes changed
    before = _meta(api, good_id)

    result = run_audit(tmp_path, registry_server, api.server.datadir)
    assert result.returncode == 1, result.stderr
    assert f"Image {bad_id} is corrupt in its store" in result.stderr
    assert "mismatched: MD5, sha512" in result.stderr
    events = [json.loads(line.split(" ", 4)[-1][line.split(" ", 4)[-1].index("{"):])
              for line in result.stderr.splitlines() if '"image.corrupt"' in line]
    assert [e["payload"]["image_id"] for e in events] == [bad_id]
    assert events[0]["priority"] == "ERROR"

    mark = api.head(bad_id).headers["x-image-meta-property-os_glance_corrupt"]
    assert "glance-scrubber --audit" in mark and "MD5" in mark
    refused = api.request("GET", f"/v1/images/{bad_id}")
    assert refused.status_code == 500 and refused.content != bad
    assert "is corrupt in its store" in refused.text and "--audit" in refused.text
    v2 = requests.get(f"{api.url}/v2/images/{bad_id}/file", timeout=30)
    assert v2.status_code == 500 and "is corrupt" in v2.text
    assert f"Download of image {bad_id} refused: it is marked corrupt" in api.server.logtext()
    # The sound image is untouched and served whole.
    assert _meta(api, good_id) == before
    assert download(api, good_id) == (good, True)

    # A second pass skips the marked image and finds nothing new.
    again = run_audit(tmp_path, registry_server, api.server.datadir)
    assert again.returncode == 0, again.stderr
    assert '"image.corrupt"' not in again.stderr


class _Store:
    def __init__(self, data):
        self.data = data

    def get(self, uri):
        return iter([self.data[i:i + MiB] for i in range(0, len(self.data), MiB)]), len(self.data)


def test_audit_reads_at_the_configured_rate():
    """4 MiB at 2 MiB/s: the audit sleeps about 2 s in all (a fake sleep counts it)."""
    slept, now = [], [100.0]

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    data = os.urandom(4 * MiB)
    auditor = Auditor(None, None, None, rate=2, sleep=sleep, clock=lambda: now[0])
    auditor.began = now[0]
    stores = type("Stores", (), {"for_uri": lambda self, uri: _Store(data)})()
    auditor.stores = stores
    wrong = auditor.check({"location": "file:///x", "size": len(data),
                           "checksum": hashlib.md5(data).hexdigest(),
                           "os_hash_algo": "sha512", "os_hash_value": "0" * 128})
    assert wrong == ["sha512"]
    assert sum(slept) == 2.0
