"""Fixtures of the fault-injection suite: deployments on each store, real backends.

``deploy(store)`` starts glance-registry + glance-api on ``file``, ``swift``
(SAIO, 1 MiB segments from 1 MiB on) or ``s3`` (Swift's s3api, 5 MiB parts
from 5 MiB on), each test in its own container or bucket so that
:meth:`Deployment.orphans` sees only what that test wrote.
"""
import os
import subprocess
import uuid

import pytest

from faults.deployment import Deployment
from integration.store.backends import unavailable


def store_options(store, request):
    """The ``*_store_*`` options of ``store`` for one test (starts its backend)."""
    name = "faults-" + uuid.uuid4().hex[:10]
    if store == "file":
        return {}
    backend = request.getfixturevalue("saio")
    if store == "swift":
        return {"swift_store_auth_address": backend.auth_url, "swift_store_user": backend.user,
                "swift_store_key": backend.key, "swift_store_container": name,
                "swift_store_create_container_on_put": "true",
                "swift_store_large_object_size": 1, "swift_store_large_object_chunk_size": 1}
    access, secret = backend.s3_keys
    return {"s3_store_host": backend.url, "s3_store_access_key": access,
            "s3_store_secret_key": secret, "s3_store_bucket": name,
            "s3_store_create_bucket_on_put": "true",
            "s3_store_large_object_size": 5, "s3_store_large_object_chunk_size": 5}


@pytest.fixture
def deploy(request, tmp_path):
    """``deploy(store="file", **kw)``: a started :class:`Deployment`, stopped afterwards."""
    started = []

    def start(store="file", **kw):
        workdir = tmp_path / f"deploy{len(started)}"
        workdir.mkdir()
        deployment = Deployment(workdir, store, store_options(store, request), **kw)
        started.append(deployment)
        return deployment.start()

    yield start
    for deployment in started:
        deployment.stop()


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MiB tmpfs (root only): ``.path``; ``.remount("ro")`` / ``.remount("rw")``."""
    if os.geteuid() != 0:
        unavailable("needs root to mount a tmpfs")
    path = tmp_path / "disk"
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode:
        unavailable(f"cannot mount a tmpfs: {done.stderr.strip()}")

    class Disk:
        @staticmethod
        def remount(mode):
            subprocess.run(["mount", "-o", f"remount,{mode}", str(path)], check=True)

    Disk.path = path
    yield Disk
    subprocess.run(["umount", "-l", str(path)], check=False)
