"""The registry contract over HTTP against glance-registry on MariaDB and PostgreSQL."""
import pytest

from contract.registry import RegistryContract
from contract.registry_metadefs import RegistryMetadefsContract
from contract.registry_tasks import RegistryTasksContract
from contract.registry_v2 import RegistryV2Contract
from contract.registry_support import live_registry, wiped_registry


@pytest.fixture(scope="module")
def live(database_url, tmp_path_factory):
    yield from live_registry(tmp_path_factory.mktemp("registry-db"), database_url)


@pytest.fixture
def registry(live):
    return wiped_registry(*live)


class TestLiveRegistryDatabase(RegistryContract, RegistryV2Contract, RegistryMetadefsContract,
                               RegistryTasksContract):
    pass
