"""Fixtures every tier shares: the real Swift (SAIO) and ``rclone serve s3``.

Each starts on first use and runs until the end of the pytest run (of each xdist
worker): starting Swift costs seconds, so no module starts its own. Tests keep their
objects apart by container, bucket or image id, and a test that stops a backend
starts it again before it ends.
"""
import pytest

from integration.store.backends import Rclone, Saio

saio = Saio.fixture("session")
rclone = Rclone.fixture("session")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Under ``pytest -n N --dist loadgroup`` (``make test``) a module runs on one xdist
    worker, so its module-scoped servers start once; a test or module marked
    ``xdist_group`` joins that group instead (e.g. tests that measure load, or every
    module on the same costly server)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
