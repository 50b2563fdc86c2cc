"""The HTTP store connects to the address it checked (no second DNS lookup).

The scenario runs in its own network namespace (``unshare --net``, root) so
that real servers can listen on global addresses; see rebinding_scenario.py.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from integration.store.backends import unavailable

SCENARIO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rebinding_scenario.py")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("openssl"):
        unavailable("the DNS rebinding test needs root, unshare and openssl")
    workdir = tmp_path_factory.mktemp("rebinding")
    done = subprocess.run(["unshare", "--net", sys.executable, SCENARIO, str(workdir)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def servers(outcome):
    return [seen[0] for seen in outcome["seen"]]


def test_get_goes_to_the_checked_address_with_the_name_as_host(results):
    get = results["get"]
    assert get.get("data") == "public image one", get
    assert get["seen"] == [["public-1", "a.example.test", "/image"]]
    assert results["lookups"]["a.example.test"] == 1       # resolved once, then pinned


def test_head_keeps_the_port_in_the_host_header(results):
    assert results["head"].get("size") == len("public image one"), results["head"]
    assert results["head"]["seen"] == [["public-1", "h.example.test:80", "/image"]]


def test_every_redirect_is_resolved_once_and_pinned(results):
    redirect = results["redirect"]
    assert redirect.get("data") == "public image two", redirect
    assert servers(redirect) == ["public-1", "public-2"]
    assert "internal" not in servers(redirect)


def test_https_uses_the_name_for_sni_and_the_certificate(results):
    https = results["https"]
    assert https.get("data") == "public tls image", https
    assert https["seen"] == [["public-tls", "s.example.test", "/image"]]
    assert ["public-tls", "s.example.test"] in results["sni"]


def test_https_certificate_for_another_name_is_refused(results):
    wrong = results["https_wrong_name"]
    assert wrong.get("error") == "BackendError", wrong
    assert wrong["seen"] == []


def test_no_connection_ever_reached_the_internal_address(results):
    for name, outcome in results.items():
        if isinstance(outcome, dict) and "seen" in outcome:
            assert not any(label.startswith("internal") for label in servers(outcome)), name
    assert not any(label.startswith("internal") for label, _ in results["sni"])
