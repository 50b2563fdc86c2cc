"""The registry contract in process: Flask's test client on in-memory SQLite."""
import pytest

from contract.registry import RegistryContract
from contract.registry_metadefs import RegistryMetadefsContract
from contract.registry_v2 import RegistryV2Contract
from contract.registry_support import InProcessRegistry
from glance import config
from glance.registry import create_app, db


@pytest.fixture(scope="module")
def app():
    conf = config.load_config("glance-registry").replace(sql_connection="sqlite://")
    engine = db.make_engine("sqlite://")
    yield create_app(conf, engine=engine)
    engine.dispose()


@pytest.fixture
def registry(app):
    client = InProcessRegistry(app, app.extensions["glance_registry"].engine)
    client.wipe()
    return client


class TestInProcessRegistry(RegistryContract, RegistryV2Contract, RegistryMetadefsContract):
    pass
