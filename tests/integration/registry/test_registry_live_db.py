"""The registry contract over HTTP against glance-registry on MariaDB and PostgreSQL."""
import pytest

from contract.registry import RegistryContract
from contract.registry_support import HTTPRegistry
from glance.registry import db
from servers import Server


@pytest.fixture(scope="module")
def live(database_url, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("registry-db")
    server = Server("glance-registry", workdir, {"sql_connection": database_url}).start()
    engine = db.make_engine(database_url)
    yield server, engine
    engine.dispose()
    assert server.stop() == 0


@pytest.fixture
def registry(live):
    server, engine = live
    client = HTTPRegistry(server.url, engine)
    client.wipe()
    return client


class TestLiveRegistryDatabase(RegistryContract):
    pass
