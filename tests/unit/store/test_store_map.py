"""StoreMap.owns: which image may delete the data at a location."""
import io

import pytest

from glance.config import load_config
from glance.store import build_stores
from glance.store.base import NotConfigured


@pytest.fixture
def stores(tmp_path):
    conf = load_config("glance-api", overrides={"filesystem_store_datadir": str(tmp_path)})
    return build_stores(conf)


def test_only_the_image_that_stored_the_data_owns_it(stores):
    stored = stores.by_name("file").add("image-a", io.BytesIO(b"a"), 1)
    assert stores.owns(stored.uri, "image-a")
    assert not stores.owns(stored.uri, "image-b")
    assert not stores.owns(stored.uri + "/../image-b", "image-b")


@pytest.mark.parametrize("uri", ["gopher://example.org/image-a", "https://example.org/image-a",
                                 "http://example.org/image-a", "no-scheme"])
def test_unknown_schemes_and_read_only_stores_own_nothing(stores, uri):
    assert not stores.owns(uri, "image-a")


def test_an_unconfigured_store_cannot_tell(stores):
    """DELETE then leaves the image pending_delete, and the scrubber retries."""
    with pytest.raises(NotConfigured):
        stores.owns("swift+https://auth.example.org/v1.0/glance/image-a", "image-a")
