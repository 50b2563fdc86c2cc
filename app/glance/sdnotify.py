"""Tell systemd how a ``Type=notify`` service is doing, without libsystemd.

systemd names a datagram socket in ``$NOTIFY_SOCKET`` (a path, or an abstract
name written with a leading ``@``) and reads ``KEY=value`` lines from it:
``READY=1`` ends the start job (so ``After=`` this unit means "ready"),
``RELOADING=1`` … ``READY=1`` brackets a reload, ``STOPPING=1`` starts a stop.
Only the unit's main process is heard (``NotifyAccess=main``): the parent, or
the one process with ``workers = 0``.  Outside systemd this does nothing.
"""
import os
import socket
import time


def notify(*fields, env=None):
    """Send ``fields`` (e.g. ``"READY=1"``) to systemd; never raises.

    :returns: whether a message was sent.
    """
    address = (os.environ if env is None else env).get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
    except OSError:
        return False
    return True


def ready(status=None):
    return notify("READY=1", *([f"STATUS={status}"] if status else []))


def reloading():
    # MONOTONIC_USEC lets systemd match the READY=1 that ends this reload.
    return notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")


def stopping():
    return notify("STOPPING=1")
