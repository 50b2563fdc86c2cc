"""The caller's identity, passed through to glance-registry.

glance-api does not decide who may see or change an image: the registry
does, from the same Keystone-style headers the client (or an auth proxy in
front of glance-api) sent.  This module only picks those headers out.
"""
from flask import current_app, request

AUTH_HEADERS = ("X-Auth-Token", "X-Identity-Status", "X-User", "X-Tenant", "X-Role",
                "X-Roles", "X-User-Id", "X-Tenant-Id")


def auth_headers():
    """The auth headers of the current request, to forward to the registry.

    A token arrives with ``X-Identity-Status`` only when an auth middleware
    (keystonemiddleware or a proxy) checked it.  A bare token means there is
    no auth in front of glance-api, so it identifies nobody and is not
    forwarded: the caller gets the same "noauth" access as a caller with no
    token, which is what ``glance --os-auth-token anything`` expects.
    """
    headers = request.headers
    if "X-Identity-Status" not in headers:
        return {}
    return {name: headers[name] for name in AUTH_HEADERS if name in headers}


def registry():
    return current_app.extensions["glance"]["registry"]


def stores():
    return current_app.extensions["glance"]["stores"]


def conf():
    return current_app.extensions["glance"]["conf"]
