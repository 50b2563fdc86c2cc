"""Fuzzing both servers with generated requests (short form; the long form is
``bench/fuzz_servers.py``).  See :mod:`fuzzing` for what is generated.

No answer may be a 5xx, an error without a message, or show a traceback; both
servers stay up, and neither logs an unhandled error.
"""
import os

import pytest

from fuzzing import Fuzzer, seed_images, servers_healthy, start_servers, v2_requests

EXAMPLES = int(os.environ.get("GLANCE_FUZZ_EXAMPLES", "1000"))
# v2: JSON bodies, json-patch, query operators, imports (bench/fuzz_servers.py runs more)
V2_EXAMPLES = int(os.environ.get("GLANCE_FUZZ_V2_EXAMPLES", "400"))


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    api, registry = start_servers(tmp_path_factory.mktemp("fuzz"))
    yield api, registry
    api.stop()
    registry.stop()


def test_generated_requests_never_get_a_5xx(servers):
    api, registry = servers
    fuzzer = Fuzzer({"api": api.port, "registry": registry.port}, seed_images(api.url))
    fuzzer.run(EXAMPLES)
    print(fuzzer.summary())
    assert sum(fuzzer.sent.values()) >= EXAMPLES * 0.9
    assert not fuzzer.problems, fuzzer.summary()
    assert servers_healthy(api, registry) == []


def test_generated_v2_requests_never_get_a_5xx(servers):
    api, registry = servers
    fuzzer = Fuzzer({"api": api.port, "registry": registry.port}, seed_images(api.url))
    fuzzer.run(V2_EXAMPLES, v2_requests)
    print(fuzzer.summary())
    assert sum(fuzzer.sent.values()) >= V2_EXAMPLES * 0.9
    assert not fuzzer.problems, fuzzer.summary()
    assert servers_healthy(api, registry) == []
