"""One image through v1 and v2 with the registry on MariaDB and on PostgreSQL."""
import pytest

import cross_api
from servers import Server


@pytest.fixture(scope="module")
def glance_api(database_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cross")
    registry = Server("glance-registry", tmp, {"sql_connection": database_url}).start()
    api = Server("glance-api", tmp, {"registry_host": "127.0.0.1",
                                     "registry_port": registry.port,
                                     "filesystem_store_datadir": str(tmp / "images")}).start()
    yield api
    api.stop()
    registry.stop()


def test_v1_to_v2(glance_api):
    cross_api.v1_to_v2(glance_api.url)


def test_v2_to_v1(glance_api):
    cross_api.v2_to_v1(glance_api.url)
