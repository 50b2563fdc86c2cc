"""The stores, chosen by name for writes and by URI scheme for reads and deletes.

With Glance's multiple stores (``enabled_backends = fast:file, cheap:s3``) each
store has an operator's name and its options in its own ``[name]`` section;
of two stores of one kind, a location is read by the one it lies in (``holds``).
"""
import importlib
import logging
from urllib.parse import urlsplit

from glance import options as opts
from glance.config import STORE_SECTION, ConfigError, parse_backends, parse_value
from glance.store.base import BadLocation, NotConfigured, UnknownScheme

LOG = logging.getLogger("glance.store")

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


# The options a [name] section of a store may set besides store_description.
STORE_OPTION_SECTIONS = ("Filesystem store", "Swift store", "S3 store", "HTTP store")


class StoreMap:
    """The stores of one glance-api process.

    :param schemes: URI scheme -> the name (or names) of the stores reading it.
    :param multiple: Glance's multiple stores (``enabled_backends``) are on.
    :param descriptions: name -> the operator's ``store_description``.
    :param hidden: names of stores that only read (the HTTP store web-download
        uses when no http store is named) and are not listed as stores.
    :param weights: name -> the operator's ``weight`` (stores without one weigh 0).
    """

    def __init__(self, stores, default, schemes, multiple=False, descriptions=None,
                 hidden=(), weights=None):
        self.stores = stores            # name -> store, or name -> NotConfigured error
        self.default_name = default
        self.schemes = {scheme: (names,) if isinstance(names, str) else tuple(names)
                        for scheme, names in schemes.items()}
        self.multiple = multiple
        self.descriptions = dict(descriptions or {})
        self.hidden = tuple(hidden)
        self.weights = dict(weights or {})

    def ordered(self, names):
        """``names`` as an image lists its stores: the heavier first, then by name."""
        return sorted(names, key=lambda name: (-self.weights.get(name, 0), name))

    def configured(self):
        """``{name: store}`` of the stores whose configuration is complete."""
        return {name: store for name, store in self.stores.items()
                if not isinstance(store, Exception)}

    def listed(self):
        """``{name: store}`` of the configured stores a client may name."""
        return {name: store for name, store in self.configured().items()
                if name not in self.hidden}

    def description(self, name):
        return self.descriptions.get(name) or self.stores[name].description

    def by_name(self, name=None):
        """The store for writes named ``name`` (or the default).

        :raises UnknownScheme: no such store.
        :raises NotConfigured: the store exists but its configuration is incomplete.
        """
        if not name:
            name = self.default_name
        elif not self.multiple:
            name = ALIASES.get(name, name)
        store = self.stores.get(name)
        if store is None or name in self.hidden:
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
        return self._store(self._reader(uri, scheme))

    def name_of(self, uri):
        """The name of the store that holds ``uri``; None when no store here does."""
        try:
            return self._reader(uri, urlsplit(uri).scheme)
        except (ValueError, BadLocation):
            return None

    def _reader(self, uri, scheme):
        """The name of the store that reads ``uri``.  :raises UnknownScheme:"""
        names = self.schemes.get(scheme)
        if not names:
            raise UnknownScheme(f"No store handles locations with scheme {scheme!r}")
        if len(names) > 1:          # several stores of one kind: the one it lies in
            for name in names:
                store = self.stores[name]
                if not isinstance(store, Exception) and store.holds(uri):
                    return name
        return names[0]

    def _store(self, name):
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


def _driver(kind):
    module, _, cls = DRIVERS[kind].partition(":")
    return getattr(importlib.import_module(module), cls)


def _build(kind, conf):
    """``(store or its NotConfigured error, schemes)`` of one store of type ``kind``."""
    try:
        driver = _driver(kind)
    except ImportError as exc:
        return NotConfigured(f"The {kind} store is not available: {exc}"), ()
    try:
        return driver.from_config(conf), driver.schemes
    except NotConfigured as exc:
        return exc, driver.schemes


def build_stores(conf, names=None):
    """Build every store from ``conf``.

    A store whose configuration is incomplete is kept as its NotConfigured
    error: the server still starts, and writes to that store get a 400.
    Drivers import their client library (boto3, swiftclient) on first use,
    so a store nobody uses costs no memory.

    :raises ConfigError: ``enabled_backends`` names an unknown type, or no
        valid ``[glance_store] default_backend``.
    """
    if conf.get("enabled_backends"):
        return _build_backends(conf)
    stores, schemes = {}, {}
    for name in names or DRIVERS:
        stores[name], found = _build(name, conf)
        schemes.update({scheme: name for scheme in found})
    return StoreMap(stores, conf.get("default_store"), schemes)


def _section_options(conf, name):
    """The typed store options of ``[name]``, its ``store_description`` and ``weight``
    (None when not set).  :raises ConfigError: a weight that is no integer."""
    values, description, weight = {}, None, None
    for key, text in conf.section(name).items():
        opt = opts.BY_NAME.get(key)
        if key == "store_description":
            description = text.strip().strip('"')
        elif key == "weight":
            try:
                weight = int(text.strip())
            except ValueError:
                raise ConfigError(f"[{name}] weight must be an integer, not {text!r}") from None
        elif opt is not None and opt.section in STORE_OPTION_SECTIONS:
            values[key] = parse_value(opt, text, f"[{name}] of {conf.path}")
        else:
            LOG.warning("Ignoring option %s in [%s]: not a store option", key, name)
    return values, description, weight


def _build_backends(conf):
    """The stores ``enabled_backends`` names, each built from its own section."""
    backends = parse_backends(conf.enabled_backends)
    stores, schemes, descriptions, weights = {}, {}, {}, {}
    for name, kind in backends:
        if kind not in DRIVERS:
            raise ConfigError(f"Store {name!r} in enabled_backends has unknown type {kind!r}; "
                              f"one of {', '.join(DRIVERS)} expected")
        values, descriptions[name], weight = _section_options(conf, name)
        if weight is not None:
            weights[name] = weight
        stores[name], found = _build(kind, conf.replace(**values))
        for scheme in found:
            schemes.setdefault(scheme, []).append(name)
    default = conf.section(STORE_SECTION).get("default_backend", "").strip()
    if default not in stores:
        raise ConfigError(f"[{STORE_SECTION}] default_backend must name one of the stores in "
                          f"enabled_backends ({', '.join(stores)}), not {default!r}")
    hidden = ()
    if "http" not in (kind for _, kind in backends) and "http" not in stores:
        # web-download and http locations read through an HTTP store even when none is named
        stores["http"], found = _build("http", conf)
        schemes.update({scheme: ["http"] for scheme in found})
        hidden = ("http",)
    return StoreMap(stores, default, schemes, multiple=True, descriptions=descriptions,
                    hidden=hidden, weights=weights)
