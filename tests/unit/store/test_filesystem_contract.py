"""The store contract, run against the filesystem store in a temporary directory."""
import pytest

from contract.store import StoreContract
from glance.config import load_config

filesystem = pytest.importorskip("glance.store.filesystem")


class TestFilesystemStore(StoreContract):
    registers_locations = False     # file:// would expose the API host's files

    @pytest.fixture(params=["true", "false"], ids=["direct-io", "buffered"])
    def store(self, tmp_path, request):
        conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path),
                                                    "filesystem_store_direct_io": request.param})
        return filesystem.FilesystemStore.from_config(conf)
