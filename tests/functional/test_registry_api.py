"""The registry contract over real HTTP against a glance-registry process on SQLite."""
import pytest

from contract.registry import RegistryContract
from contract.registry_support import HTTPRegistry
from glance.registry import db
from servers import Server


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("registry")
    url = f"sqlite:///{workdir}/registry.sqlite"
    server = Server("glance-registry", workdir, {"sql_connection": url}).start()
    engine = db.make_engine(url)
    yield server, engine
    engine.dispose()
    assert server.stop() == 0


@pytest.fixture
def registry(live):
    server, engine = live
    client = HTTPRegistry(server.url, engine)
    client.wipe()
    return client


class TestLiveRegistrySQLite(RegistryContract):
    pass
