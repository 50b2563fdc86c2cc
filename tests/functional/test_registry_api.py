"""The registry contract over real HTTP against a glance-registry process on SQLite."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from contract.registry import RegistryContract
from contract.registry_metadefs import RegistryMetadefsContract
from contract.registry_tasks import RegistryTasksContract
from contract.registry_v2 import RegistryV2Contract
from contract.registry_support import live_registry, wiped_registry
from glance.errors import ServiceUnavailable, StatusError
from glance.registry.client import RegistryClient
from servers import free_port


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("registry")
    yield from live_registry(workdir, f"sqlite:///{workdir}/registry.sqlite")


@pytest.fixture
def registry(live):
    return wiped_registry(*live)


class TestLiveRegistrySQLite(RegistryContract, RegistryV2Contract, RegistryMetadefsContract,
                             RegistryTasksContract):
    pass


def test_client_reports_an_unreachable_registry(live):
    client = RegistryClient("127.0.0.1", free_port(), timeout=5)
    with pytest.raises(ServiceUnavailable) as info:
        client.get("3b0f9e26-8d4e-4a4e-9d5a-1f2e3c4b5a69")
    assert info.value.status == 503
    assert info.value.message.startswith("Registry unavailable: ")


def test_client_is_safe_across_threads(live):
    client = wiped_registry(*live)

    def work(n):
        made = client.create({"name": f"t{n}", "is_public": True, "size": 2 ** 33 + n})
        assert client.get(made["id"])["size"] == 2 ** 33 + n
        client.update(made["id"], {"properties": {"n": str(n)}})
        return made["id"]

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(work, range(40)))
    listed = client.list(detail=True, params={"limit": 100})
    assert sorted(i["id"] for i in listed) == sorted(made)
    assert all(i["properties"]["n"] == i["name"][1:] for i in listed)


def test_a_body_over_max_request_body_size_is_refused_and_nothing_is_stored(live):
    client = wiped_registry(*live)
    # 128 properties of 255 characters fit in the default 1 MiB easily; 2 MiB does not.
    fits = {f"p{n}": "v" * 255 for n in range(128)}
    assert client.create({"name": "fits", "is_public": True, "properties": fits})["properties"] == fits
    with pytest.raises(StatusError) as info:
        client.create({"name": "huge", "is_public": True, "properties": {"p": "v" * (2 * 1024 * 1024)}})
    assert info.value.status == 413
    assert [i["name"] for i in client.list(detail=True)] == ["fits"]
