"""Run a glance command as if this machine had no system-wide configuration.

The configuration search (``glance.config.SEARCH_DIRS``) ends with ``/etc/glance`` and
``/etc``, which no option or variable redirects; HOME and the working directory cover the
rest.  When a configuration exists there, the command runs in a private mount namespace
(``unshare -m``, as root) where ``/etc/glance`` is an empty tmpfs and each
``/etc/glance*.conf`` is ``/dev/null``, which the search passes by (not a regular file).
"""
import glob
import os
import shutil

import pytest


def _mounts():
    mounts = []
    if os.path.isdir("/etc/glance"):
        mounts.append("mount -t tmpfs tmpfs /etc/glance")
    for path in sorted(glob.glob("/etc/glance*.conf")):
        mounts.append(f"mount --bind /dev/null {path}")
    return mounts


def command(argv):
    """``argv`` (a list), wrapped if need be so that it finds nothing in /etc.

    Skips the test when a system-wide configuration exists and cannot be hidden.
    """
    mounts = _mounts()
    if not mounts:
        return list(argv)
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a system-wide glance configuration exists, and hiding it takes root")
    script = " && ".join(mounts) + ' && exec "$@"'
    return ["unshare", "-m", "sh", "-c", script, "sh", *argv]
