"""Fuzzing both servers with generated requests (short form; long form:
``bench/fuzz_servers.py``).  See :mod:`fuzzing` for what is generated.

No answer may be a 5xx, an error without a message, or show a traceback; both
servers stay up, and neither logs an unhandled error.
"""
import os

import pytest
import requests

from fuzzing import Fuzzer, log_problems
from servers import Server

EXAMPLES = int(os.environ.get("GLANCE_FUZZ_EXAMPLES", "1000"))


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    registry = Server("glance-registry", tmp,
                      {"sql_connection": f"sqlite:///{tmp}/registry.sqlite"}).start()
    api = Server("glance-api", tmp, {"registry_host": "127.0.0.1",
                                     "registry_port": registry.port,
                                     "filesystem_store_datadir": str(tmp / "images")}).start()
    yield api, registry
    api.stop()
    registry.stop()


def seed_images(api):
    """An active image with data and properties, and a queued one."""
    active = requests.post(api.url + "/v1/images", data=b"fuzz" * 100, timeout=30,
                           headers={"x-image-meta-name": "fuzz", "x-image-meta-is_public": "true",
                                    "x-image-meta-property-distro": "debian",
                                    "Content-Type": "application/octet-stream"})
    queued = requests.post(api.url + "/v1/images", headers={"x-image-meta-name": "q"},
                           timeout=30)
    assert active.status_code == queued.status_code == 201
    return {"id": active.json()["image"]["id"], "queued": queued.json()["image"]["id"]}


def test_generated_requests_never_get_a_5xx(servers):
    api, registry = servers
    fuzzer = Fuzzer({"api": api.port, "registry": registry.port}, seed_images(api))
    fuzzer.run(EXAMPLES)
    print(fuzzer.summary())
    assert sum(fuzzer.sent.values()) >= EXAMPLES * 0.9
    assert not fuzzer.problems, fuzzer.summary()
    assert api.proc.poll() is None and registry.proc.poll() is None
    assert requests.get(api.url + "/v1/images", timeout=10).status_code == 200
    assert requests.get(registry.url + "/images", timeout=10).status_code == 200
    assert log_problems(api.logtext()) == [] and log_problems(registry.logtext()) == []
