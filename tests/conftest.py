"""Fixtures every tier shares: the real Swift (SAIO), ``rclone serve s3`` and Keystone.

Each starts on first use and runs until the end of the pytest run (of each xdist
worker): starting Swift costs seconds, so no module starts its own. Tests keep their
objects apart by container, bucket or image id, and a test that stops a backend
starts it again before it ends.
"""
import os

import pytest

import keystone_tools
import template_db
from integration.store.backends import Rclone, Saio

saio = Saio.fixture("session")
rclone = Rclone.fixture("session")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        template_db.start_run()     # before the xdist workers start: they inherit it


def pytest_unconfigure(config):
    """The process that started the run removes the run's templates (:mod:`template_db`)
    once its workers are gone."""
    if hasattr(config, "workerinput"):
        return
    if template_db.asked("mariadb") or template_db.asked("postgresql"):
        from integration.registry.registry_databases import drop_templates
        drop_templates()
    template_db.remove()


@pytest.fixture(scope="session")
def keystone_server(tmp_path_factory):
    """One real Keystone for the run (per xdist worker), with the accounts of
    :data:`keystone_tools.USERS`; defined here only, so no tier starts a second one."""
    if not keystone_tools.Keystone.available():
        keystone_tools.unavailable(f"no Keystone in {keystone_tools.VENV}")
    shared = tmp_path_factory.getbasetemp()       # .../pytest-N, or .../pytest-N/popen-gwK
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    server = keystone_tools.Keystone(tmp_path_factory.mktemp("keystone"),
                                     template=shared / "keystone-template").start()
    server.accounts = keystone_tools.accounts(server)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keystone_glance(keystone_server, tmp_path_factory):
    """glance-registry and glance-api in keystone mode against it, per module."""
    workdir = tmp_path_factory.mktemp("ks-glance")
    glance = keystone_tools.KeystoneGlance(keystone_server, workdir).start()
    yield glance
    glance.stop()
