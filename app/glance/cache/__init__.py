"""The image cache of one API node, kept as plain files (Diablo's layout).

``<datadir>/<image id>`` is a complete, verified copy; ``incomplete/`` holds
copies being written, ``invalid/`` copies found corrupt (for the reaper),
``queue/`` the ids waiting for glance-cache-prefetcher.  A file's atime is
set on every hit and is the "last access" the pruner orders by; it is set
explicitly, so noatime and relatime mounts do not matter.

Only the filesystem is used (no database, no xattrs), so a node's cache is
correct after any crash: an entry moves from ``incomplete/`` to the top
level in one rename, after its size and MD5 matched the registry's.
"""
from glance.cache.entries import ImageCache, from_config

__all__ = ["ImageCache", "from_config"]
