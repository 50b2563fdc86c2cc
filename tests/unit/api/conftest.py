"""glance-api under Flask's test client, with the real registry in process.

The registry is glance-registry's own app on an in-memory SQLite database,
reached through :class:`contract.registry_support.InProcessRegistry` (the
registry client's methods over Flask's test client): it enforces ownership,
visibility and the compare-and-set of statuses exactly as in production.
``calls`` records what glance-api asked of it, for the tests about that.
"""
import pytest

from contract.registry_support import InProcessRegistry
from glance.api import create_app
from glance.config import load_config
from glance.store import StoreMap
from glance.store.filesystem import FilesystemStore


RECORDED = ("list", "list_v2", "get", "create", "update", "delete", "add_tag", "delete_tag",
            "get_members", "get_member", "update_member_status", "replace_members",
            "add_member", "delete_member", "get_shared_images")


class RecordingRegistry(InProcessRegistry):
    """The real registry, recording each call glance-api makes as ``(method, args, kwargs)``."""

    def __init__(self, app, engine):
        super().__init__(app, engine)
        self.calls = []

    def __getattribute__(self, name):
        method = super().__getattribute__(name)
        if name not in RECORDED:
            return method
        calls = super().__getattribute__("calls")

        def recorded(*args, **kwargs):
            calls.append((name, args, kwargs))
            return method(*args, **kwargs)
        return recorded

    def statuses(self, image_id):
        """The statuses glance-api set on ``image_id``, in order."""
        return [args[1]["status"] for name, args, _ in self.calls
                if name == "update" and args[0] == image_id and "status" in args[1]]

    def last(self, name):
        """``(args, kwargs)`` of the last call of method ``name``."""
        return [call[1:] for call in self.calls if call[0] == name][-1]


@pytest.fixture
def conf(tmp_path):
    return load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path / "d")})


@pytest.fixture(scope="module")
def live_registry():
    registry = RecordingRegistry.in_memory()
    yield registry
    registry.engine.dispose()


@pytest.fixture
def registry(live_registry):
    """The module's registry, emptied for each test."""
    live_registry.wipe()
    live_registry.calls.clear()
    return live_registry


@pytest.fixture
def fs_store(conf):
    return FilesystemStore.from_config(conf)


@pytest.fixture
def make_client(conf, registry, fs_store):
    def make(store=None, service_auth=None, auth_token=None, **changes):
        stores = StoreMap({"file": store or fs_store}, "file",
                          {"file": "file", "filesystem": "file"})
        app = create_app(conf.replace(**changes), registry=registry, stores=stores,
                         service_auth=service_auth, auth_token=auth_token)
        return app.test_client()
    return make


@pytest.fixture
def client(make_client):
    return make_client()
