"""The registry contract in process: Flask's test client on in-memory SQLite."""
import pytest

from contract.registry import RegistryContract
from contract.registry_metadefs import RegistryMetadefsContract
from contract.registry_tasks import RegistryTasksContract
from contract.registry_v2 import RegistryV2Contract
from contract.registry_support import CONTRACT_OPTIONS, InProcessRegistry, in_memory_app


@pytest.fixture(scope="module")
def app():
    yield from in_memory_app(**CONTRACT_OPTIONS)


@pytest.fixture
def registry(app):
    client = InProcessRegistry(app)
    client.wipe()
    return client


class TestInProcessRegistry(RegistryContract, RegistryV2Contract, RegistryMetadefsContract,
                            RegistryTasksContract):
    pass
