"""The stores, chosen by name for writes and by URI scheme for reads and deletes."""
import importlib
from urllib.parse import urlsplit

from glance.store.base import BadLocation, NotConfigured, UnknownScheme

# Store name -> "module:Class". Imported only when built, so a missing
# optional library (boto3, swiftclient) affects only its own store.
DRIVERS = {
    "file": "glance.store.filesystem:FilesystemStore",
    "swift": "glance.store.swift:SwiftStore",
    "s3": "glance.store.s3:S3Store",
    "http": "glance.store.http:HTTPStore",
}

# Names a client may give in x-image-meta-store, as the seed allowed.
ALIASES = {
    "filesystem": "file",
    "swift+http": "swift", "swift+https": "swift",
    "s3+http": "s3", "s3+https": "s3",
    "https": "http",
}


class StoreMap:
    """The stores of one glance-api process."""

    def __init__(self, stores, default, schemes):
        self.stores = stores            # name -> store, or name -> NotConfigured error
        self.default_name = default
        self.schemes = schemes          # URI scheme -> store name

    def configured(self):
        """``{name: store}`` of the stores whose configuration is complete."""
        return {name: store for name, store in self.stores.items()
                if not isinstance(store, Exception)}

    def by_name(self, name=None):
        """The store for writes named ``name`` (or the default).

        :raises UnknownScheme: no such store.
        :raises NotConfigured: the store exists but its configuration is incomplete.
        """
        name = ALIASES.get(name, name) if name else self.default_name
        store = self.stores.get(name)
        if store is None:
            raise UnknownScheme(f"Requested store {name} not available on this Glance server")
        if isinstance(store, Exception):
            raise store
        return store

    def for_uri(self, uri):
        """The store that reads and deletes ``uri``.

        :raises UnknownScheme: no store here handles the URI's scheme.
        :raises BadLocation: ``uri`` is not a URI (``http://[::1``).
        """
        try:
            scheme = urlsplit(uri).scheme
        except ValueError:
            raise BadLocation("Image location is not a valid URL") from None
        name = self.schemes.get(scheme)
        if name is None:
            raise UnknownScheme(f"No store handles locations with scheme {scheme!r}")
        store = self.stores[name]
        if isinstance(store, Exception):
            raise store
        return store

    def owns(self, uri, image_id):
        """Did image ``image_id`` store the data at ``uri``?  Only then may deleting
        the image delete that data: an image registered with another image's or an
        external location never removes it.

        :returns: True iff ``uri`` is exactly what ``add(image_id)`` of the store
            for its scheme writes; False for a scheme no store handles.
        :raises NotConfigured: the store for that scheme is not configured here.
        """
        try:
            store = self.for_uri(uri)
        except BadLocation:         # UnknownScheme too
            return False
        return bool(store.owns(uri, image_id))


def build_stores(conf, names=None):
    """Build every store from ``conf``.

    A store whose configuration is incomplete is kept as its NotConfigured
    error: the server still starts, and writes to that store get a 400.
    Drivers import their client library (boto3, swiftclient) on first use,
    so a store nobody uses costs no memory.
    """
    stores, schemes = {}, {}
    for name in names or DRIVERS:
        module, _, cls = DRIVERS[name].partition(":")
        try:
            driver = getattr(importlib.import_module(module), cls)
            schemes.update({scheme: name for scheme in driver.schemes})
            stores[name] = driver.from_config(conf)
        except NotConfigured as exc:
            stores[name] = exc
        except ImportError as exc:
            stores[name] = NotConfigured(f"The {name} store is not available: {exc}")
    return StoreMap(stores, conf.get("default_store"), schemes)
