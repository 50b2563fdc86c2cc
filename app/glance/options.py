"""Every configuration option, in one table.

The table is the single source of truth: it gives each option its type and
default, builds the command-line ``--help``, and generates the sample files in
``etc/`` (``python -m glance.config --sample glance-api``).  Names and defaults
of the options Glance 2011 had are kept, so old configuration files load
unchanged.
"""
from dataclasses import dataclass
from typing import Any

API = "glance-api"
REGISTRY = "glance-registry"
MANAGE = "glance-manage"
SCRUBBER = "glance-scrubber"
CONTROL = "glance-control"
# glance-cache-prefetcher, -pruner and -reaper: they read glance-api.conf (the node's cache).
CACHE = "glance-cache"
ALL = (API, REGISTRY, MANAGE, SCRUBBER, CONTROL, CACHE)
DB = (REGISTRY, MANAGE, SCRUBBER)
STORES = (API, SCRUBBER, CACHE)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Option:
    name: str
    type: str          # str, int, port, bool, float, choice
    default: Any
    help: str
    programs: tuple
    section: str
    choices: tuple = ()
    secret: bool = False   # masked whenever options are logged


def _opts(section, programs, *rows):
    return [Option(name, type_, default, help_, programs, section, **extra)
            for name, type_, default, help_, *rest in rows
            for extra in [rest[0] if rest else {}]]


OPTIONS = [
    *_opts("Logging", ALL,
        ("verbose", "bool", False, "Log at INFO level."),
        ("debug", "bool", False, "Log at DEBUG level; also logs the effective options once at start."),
        ("log_level", "choice", "", "Explicit log level; overrides verbose and debug when set.",
         {"choices": ("",) + LOG_LEVELS}),
        ("log_config", "str", "", "Python logging configuration file (fileConfig format). When set, "
         "every other logging option is ignored."),
        ("log_format", "str", "%(asctime)s %(levelname)8s [%(name)s] %(message)s",
         "Format of each log line."),
        ("log_date_format", "str", "%Y-%m-%d %H:%M:%S", "Format of %(asctime)s in log lines."),
        ("log_file", "str", "", "Log to this file instead of stderr. Reopened when logrotate moves it."),
        ("log_dir", "str", "", "Directory for log_file when log_file is relative; with no log_file, "
         "logs go to <log_dir>/<program>.log."),
        ("use_syslog", "bool", False, "Log to syslog (/dev/log) instead of a file or stderr."),
    ),
    *_opts("Server", (API, REGISTRY),
        ("bind_host", "str", "0.0.0.0", "Address to listen on (glance-api: 0.0.0.0, "
         "glance-registry: 127.0.0.1, since it trusts the identity headers it is sent)."),
        ("bind_port", "port", 0, "Port to listen on (glance-api: 9292, glance-registry: 9191)."),
        ("workers", "int", None, "Worker processes. The parent process listens, starts this "
         "many workers, replaces one that dies and passes SIGHUP and SIGTERM on to them. Empty: "
         "the number of CPUs, at most 8. 0: no workers, the one process serves everything."),
        ("server_threads", "int", 16, "Threads each worker process keeps ready for requests. "
         "glance-api starts more while all are busy (up to max_connections) and ends them "
         "again when idle; glance-registry serves at most this many requests at once."),
        ("server_timeout", "int", 300, "Seconds a kept-alive connection may stay idle between requests "
         "before it is closed."),
        ("shutdown_timeout", "int", 30, "On SIGTERM, seconds to let requests in flight finish."),
    ),
    *_opts("Limits", (API, REGISTRY),
        ("max_header_size", "int", 131072, "Largest request line plus headers, in bytes; "
         "more is refused (glance-api: 413, glance-registry: 431)."),
        ("max_header_count", "int", 256, "Most request headers; more is refused with 400."),
        ("image_property_quota", "int", 128, "Most properties an image may have (existing plus "
         "new on update); more is refused with 413."),
        ("image_tag_quota", "int", 128, "Most tags an image may have; more is refused with 413."),
        ("image_member_quota", "int", 128, "Most members an image may have (v1 and v2); more "
         "is refused with 413."),
        ("image_name_max_length", "int", 255, "Longest image name, in characters."),
        ("property_key_max_length", "int", 255, "Longest property name, in characters."),
        ("property_value_max_length", "int", 255, "Longest property value, in characters."),
        ("max_list_filters", "int", 32, "Most filters (name, size_min, property-<key>, ...) in "
         "one list request."),
        ("header_timeout", "int", 20, "Seconds a client has to send a request's line and "
         "headers, counted from the connection (or, between requests, from their first byte)."),
        ("body_timeout", "int", 60, "Seconds a request body (or a client reading an answer) may "
         "stay silent before the connection is closed."),
        ("max_connections", "int", 512, "Most client connections open at once in each worker "
         "process; glance-api answers more with 503, glance-registry leaves them waiting to be "
         "accepted."),

    ),
    *_opts("Limits", (REGISTRY,),
        ("max_request_body_size", "int", 1048576, "Largest request body (image metadata or "
         "a member list, as JSON) glance-registry reads, in bytes; more is refused with 413."),
    ),
    *_opts("Metadata definitions", (REGISTRY,),
        ("metadef_namespace_quota", "int", 1000, "Most metadata definition namespaces "
         "(/v2/metadefs); creating more is refused with 413."),
        ("metadef_object_quota", "int", 500, "Most objects one metadata definition namespace "
         "may hold; more is refused with 413."),
        ("metadef_property_quota", "int", 1000, "Most properties one metadata definition "
         "namespace may hold; more is refused with 413."),
        ("metadef_tag_quota", "int", 1000, "Most tags one metadata definition namespace may "
         "hold; more is refused with 413."),
    ),
    *_opts("Tasks", (REGISTRY, SCRUBBER),
        ("task_time_to_live", "int", 48, "Hours a finished task (the record of a v2 import, "
         "/v2/tasks) is kept; then it is hidden and glance-scrubber deletes it. "
         "glance-scrubber fails a task left unfinished this long (its glance-api died)."),
    ),
    *_opts("Registry client", (API, CACHE),
        ("registry_host", "str", "0.0.0.0", "Host of glance-registry."),
        ("registry_port", "port", 9191, "Port of glance-registry."),
        ("registry_timeout", "int", 60, "Seconds to wait for glance-registry to answer."),
    ),
    *_opts("Registry client", (API,),
        ("registry_wait_timeout", "int", 300, "At start, seconds glance-api waits for "
         "glance-registry to answer before it gives up its check for crashed uploads (left to "
         "glance-scrubber then). glance-api serves meanwhile."),
    ),
    *_opts("Health check", (API,),
        ("disable_by_file_path", "str", "/etc/glance/healthcheck_disable", "While this file "
         "exists, GET /healthcheck answers 503 (DISABLED BY FILE) instead of 200 (OK): a load "
         "balancer then sends this node no new requests. Empty: always 200."),
    ),
    *_opts("Images", (API,),
        ("default_store", "choice", "file", "Store that receives uploads without x-image-meta-store.",
         {"choices": ("file", "swift", "s3")}),
        ("delayed_delete", "bool", False, "Mark deleted images pending_delete and let "
         "glance-scrubber remove their data later."),
        ("max_json_body", "int", 1048576, "Largest JSON request body of the v2 API (create, "
         "PATCH, members, import), in bytes; larger ones are refused with 413."),
        ("json_body_timeout", "int", 20, "Most seconds a client may take to send a whole JSON "
         "request body (v2 create, PATCH, members, import; v1 members), however steadily it "
         "trickles; then it gets 408 and the connection is closed."),
        ("image_size_cap", "int", 1099511627776, "Largest image, in bytes (1 TiB): an upload "
         "announcing more (Content-Length, x-image-meta-size) is refused with 413 before any "
         "byte is read; one that sends more (chunked, web-download) is stopped at the cap "
         "with 413, its image killed and its data removed."),
        ("image_location_quota", "int", 10, "Most locations an image may have (its data, "
         "its copies in other stores, and the http(s) locations registered with "
         "x-image-meta-location or the v2 locations API); 0 refuses registering external "
         "locations (413)."),
        ("show_multiple_locations", "bool", False, "v2 shows an image's locations "
         "(\"locations\": [{\"url\", \"metadata\"}]) to its owner project and admins, "
         "and lets them add http(s) locations and change their metadata with PATCH "
         "(only admins remove one). RISK: a location names where the data lies (a store's "
         "path, container or bucket, an internal web server), and an owner can point an "
         "image at any web server glance-api may reach (http_store_allow_private opens "
         "private addresses too), whose content is then served as the image."),
        ("do_secure_hash", "bool", True, "After POST /v2/images/<id>/locations, read the "
         "location in the background to record the image's MD5 checksum and "
         "hashing_algorithm hash (checking validation_data's hash first when it came). "
         "Off, the image takes validation_data's values, or none."),
        ("enabled_import_methods", "str", "glance-direct,web-download", "Comma-separated v2 "
         "interoperable import methods offered (glance-direct, web-download, "
         "glance-download, and with multiple stores copy-image)."),
        ("glance_download_properties", "str", "hw_,trait:,os_distro,os_secure_boot,os_type",
         "Comma-separated prefixes of the properties a glance-download import copies from "
         "the other region's image (beside its disk and container formats)."),
        ("hashing_algorithm", "choice", "sha512", "Hash computed beside the MD5 checksum of "
         "every upload (the image's os_hash_algo and os_hash_value); downloads verify it "
         "when verify_download_hashes is on.",
         {"choices": ("sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512",
                      "blake2b")}),
        ("verify_download_hashes", "bool", False, "Verify the MD5 and the multihash of every "
         "whole download as it streams (the last chunk is held back until they match). "
         "Off, a download verifies the image's fast checksum (XXH3-64 or CRC-32, recorded at "
         "upload) at memory speed, or its MD5 when it has none; clients such as glanceclient "
         "and Nova verify the hashes end to end."),
    ),
    *_opts("Notifications", (API, SCRUBBER),
        ("notifier_strategy", "choice", "noop", "Where image events (image.upload, image.update, "
         "image.delete, image.send) go: noop (nowhere), logging (the glance.notifier log) or "
         "rabbit (RabbitMQ queues <rabbit_notification_topic>.<PRIORITY>; needs kombu).",
         {"choices": ("noop", "logging", "rabbit")}),
        ("rabbit_host", "str", "localhost", "RabbitMQ host."),
        ("rabbit_port", "port", 5672, "RabbitMQ port."),
        ("rabbit_use_ssl", "bool", False, "Connect to RabbitMQ with TLS."),
        ("rabbit_userid", "str", "guest", "RabbitMQ user."),
        ("rabbit_password", "str", "guest", "RabbitMQ password.", {"secret": True}),
        ("rabbit_virtual_host", "str", "/", "RabbitMQ virtual host."),
        ("rabbit_notification_topic", "str", "glance_notifications",
         "Prefix of the queue names: events go to <topic>.INFO, <topic>.WARN, <topic>.ERROR."),
        ("notifier_send_timeout", "float", 5.0, "Seconds the notification sender waits for "
         "RabbitMQ (connect, send, confirm) before it counts the broker as down. Requests never "
         "wait for it."),
        ("notifier_queue_size", "int", 1000, "Notifications kept in memory while RabbitMQ is "
         "down or slow; when full the oldest are dropped (and counted in the log)."),
        ("notifier_retry_interval", "float", 2.0, "Seconds between attempts to reach RabbitMQ "
         "while it is down."),
    ),
    *_opts("Image cache", (API, CACHE),
        ("image_cache_enabled", "bool", False, "Keep a copy of each downloaded image on this "
         "node (image_cache_datadir) and serve later downloads from it. Each API node has "
         "its own cache; glance-cache-pruner, -reaper and -prefetcher look after it."),
        ("image_cache_datadir", "str", "/var/lib/glance/image-cache/", "Directory of the "
         "image cache (with incomplete/, invalid/ and queue/ in it). Created at start if "
         "missing; local to the node, never shared."),
        ("image_cache_max_size_bytes", "int", 1073741824, "Size the cache may reach before "
         "glance-cache-pruner removes the least recently used images. An image larger "
         "than this is never cached."),
        ("image_cache_percent_extra_to_free", "float", 0.20, "When pruning, free this "
         "fraction of image_cache_max_size_bytes more than needed, so the next downloads "
         "do not trigger another prune at once."),
        ("image_cache_stall_timeout", "int", 86400, "An incomplete cache entry untouched for "
         "this many seconds is a stalled download: glance-cache-reaper removes it and the "
         "next download fills the entry again."),
        ("image_cache_direct_io", "bool", True, "Write and read cache entries with O_DIRECT, "
         "around the page cache: filling the cache then allocates no page-cache memory (on a "
         "VM that hands freed memory back to its host that costs more CPU than the download "
         "itself) and a large image does not evict the node's hot pages, but every cached "
         "download reads the disk. Off: buffered I/O. Filesystems without O_DIRECT get "
         "buffered I/O either way."),
    ),
    *_opts("Uploads", (API,),
        ("upload_heartbeat_interval", "int", 30, "While an upload runs, touch its image's "
         "updated_at every this many seconds, so it is not taken for a crashed upload "
         "(0: never; keep it well below saving_stale_time)."),
    ),
    *_opts("Uploads", (API, SCRUBBER),
        ("saving_stale_time", "int", 600, "An image 'saving' and untouched for this many "
         "seconds is a crashed upload: glance-api (at start) and glance-scrubber set it "
         "'killed', and glance-scrubber removes partial data older than this."),
    ),
    *_opts("Images", (API, REGISTRY),
        ("owner_is_tenant", "bool", True, "The owner of an image is the caller's tenant (else the user)."),
        ("allow_owner_publicize", "bool", False, "Let non-admin owners make their images "
         "public (v2 visibility public, v1 is_public=true), as the appliance did. Off: only "
         "admins publish (Glance's default publicize_image policy); owners may still choose "
         "community. Set it alike in both servers."),
    ),
    *_opts("Authentication", (API, REGISTRY, CACHE),
        ("auth_strategy", "choice", "noauth", "noauth: a request without identity headers is "
         "an admin and identity headers are trusted (single node, or an auth proxy in front). "
         "keystone: keystonemiddleware's auth_token validates every token "
         "([keystone_authtoken] section); callers without a valid token are anonymous.",
         {"choices": ("noauth", "keystone")}),
        ("admin_role", "str", "admin", "Role that makes a caller an admin (case-insensitive)."),
    ),
    *_opts("Multiple stores", STORES,
        ("enabled_backends", "str", "", "Glance's multiple stores: comma-separated name:type "
         "pairs (type file, swift, s3 or http), e.g. fast:file,cheap:s3,web:http. Each store's "
         "options are in a [name] section (the store options below, store_description, and "
         "weight: an integer, default 0; an image's stores field lists the heavier first, "
         "and /v2/info/stores shows the weights set); "
         "[glance_store] default_backend names the store uploads go to without "
         "X-Image-Meta-Store. Empty: one store of each type, configured here, and "
         "default_store."),
    ),
    *_opts("Filesystem store", STORES,
        ("filesystem_store_datadir", "str", "/var/lib/glance/images/",
         "Directory that holds image files. Created at start if missing."),
        ("filesystem_store_direct_io", "bool", True, "Write uploads with O_DIRECT, around "
         "the page cache: an upload then allocates no page-cache memory (on a VM that hands "
         "freed memory back to its host that costs more CPU than the upload's hashing) and "
         "does not evict the images the node serves hot, but the first download of a new "
         "image reads the disk. Off: buffered writes. Filesystems without O_DIRECT (tmpfs, "
         "some network filesystems) get buffered writes either way."),
    ),
    *_opts("Swift store", STORES,
        ("swift_store_auth_address", "str", "", "Swift auth URL, e.g. https://swift.example.com:8080/auth/v1.0."),
        ("swift_store_user", "str", "", "Swift user (account:user for v1 and tempauth)."),
        ("swift_store_key", "str", "", "Swift key or password.", {"secret": True}),
        ("swift_store_auth_version", "choice", "1", "Auth API version of swift_store_auth_address.",
         {"choices": ("1", "2", "3")}),
        ("swift_store_tenant", "str", "", "Tenant or project name for auth versions 2 and 3."),
        ("swift_store_container", "str", "glance", "Container that holds images."),
        ("swift_store_create_container_on_put", "bool", False, "Create the container if it is missing."),
        ("swift_store_large_object_size", "int", 5120,
         "Images of this many MiB or more are stored as segments plus a manifest."),
        ("swift_store_large_object_chunk_size", "int", 200, "Size of each segment in MiB."),
        ("swift_store_retries", "int", 5, "Times one Swift request is retried after a connection "
         "error, a timeout or a 5xx answer, with pauses growing from 0.5 s up to 8 s. 0: no "
         "retries."),
        ("swift_store_timeout", "int", 60, "Seconds to wait for a connection to Swift, or for "
         "it to answer or send the next bytes."),
        ("swift_enable_snet", "bool", False, "Use Rackspace ServiceNet (accepted, ignored)."),
    ),
    *_opts("S3 store", STORES,
        ("s3_store_host", "str", "", "S3 endpoint URL or host, e.g. http://127.0.0.1:8080."),
        ("s3_store_access_key", "str", "", "S3 access key.", {"secret": True}),
        ("s3_store_secret_key", "str", "", "S3 secret key.", {"secret": True}),
        ("s3_store_bucket", "str", "", "Bucket that holds images."),
        ("s3_store_create_bucket_on_put", "bool", False, "Create the bucket if it is missing."),
        ("s3_store_addressing_style", "choice", "path", "Bucket addressing in URLs.",
         {"choices": ("path", "virtual", "auto")}),
        ("s3_store_region", "str", "us-east-1", "Region name sent to the endpoint."),
        ("s3_store_large_object_size", "int", 100, "Images of this many MiB or more use multipart upload."),
        ("s3_store_large_object_chunk_size", "int", 10, "Multipart part size in MiB (at least 5)."),
        ("s3_store_max_retries", "int", 3, "Times one S3 request is retried after a connection "
         "error, a timeout or a 5xx/throttling answer, with growing random pauses (up to 20 s) "
         "between tries; an upload part only while none of its bytes were sent. 0: no retries."),
        ("s3_store_connect_timeout", "int", 10, "Seconds to wait for a connection to the S3 "
         "endpoint."),
        ("s3_store_read_timeout", "int", 60, "Seconds to wait for the S3 endpoint to answer or "
         "send the next bytes."),
    ),
    *_opts("HTTP store", STORES,
        ("http_store_allow_private", "bool", False, "Allow image locations on loopback, link-local "
         "and private addresses (off: the API is not a way into the internal network)."),
        ("http_store_timeout", "int", 60, "Seconds to wait for a remote image server to accept "
         "a connection, answer, or send the next bytes."),
        ("http_store_transfer_timeout", "int", 3600, "Most seconds one read from an image "
         "server may take in all (a web-download, or the download of an image with an http "
         "location), redirects included; then the connection is cut and the read fails, so "
         "a server that trickles bytes holds no thread for longer."),
        ("http_store_ca_file", "str", "", "CA certificates (PEM) that https image locations are "
         "verified against; empty: the system's."),
    ),
    *_opts("Database", DB,
        ("sql_connection", "str", "sqlite:///glance.sqlite",
         "SQLAlchemy URL: sqlite:///path, mysql+pymysql://user:pw@host/db, postgresql://user:pw@host/db.",
         {"secret": True}),
        ("sql_idle_timeout", "int", 3600, "Seconds after which an idle connection is replaced."),
    ),
    *_opts("Lists", (API, REGISTRY),
        ("api_limit_max", "int", 1000, "Largest page a list may return (glance-api's v2 "
         "lists and the registry; keep them equal)."),
        ("limit_param_default", "int", 25, "Page size when the request gives no limit."),
    ),
    *_opts("Scrubber", (SCRUBBER,),
        ("scrub_time", "int", 43200, "Seconds a pending_delete image waits before its data is removed."),
        ("daemon", "bool", False, "Keep running and scrub every wakeup_time seconds."),
        ("wakeup_time", "int", 300, "Seconds between scrubs in daemon mode."),
        ("scrub_audit_rate", "int", 50, "MiB per second glance-scrubber --audit reads at most "
         "while it verifies stored image data (0: no limit)."),
    ),
]

BY_NAME = {opt.name: opt for opt in OPTIONS}

# Defaults that differ per program.
PROGRAM_DEFAULTS = {
    API: {"bind_port": 9292},
    # The registry trusts what glance-api forwards: reachable from this host only
    # unless an operator names a private address (multinode).
    REGISTRY: {"bind_host": "127.0.0.1", "bind_port": 9191, "server_threads": 8},
}


def options_for(program):
    """The options a program reads, in table order."""
    return [opt for opt in OPTIONS if program in opt.programs]


def default(name):
    """The table's default of option ``name``, for code that runs without a Config."""
    return next(opt.default for opt in OPTIONS if opt.name == name)


def default_for(opt, program):
    return PROGRAM_DEFAULTS.get(program, {}).get(opt.name, opt.default)
