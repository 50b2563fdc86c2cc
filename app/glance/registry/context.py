"""The registry's view of the request context: :mod:`glance.context`, read from the app's options."""
from glance.context import RequestContext, from_headers  # noqa: F401  (the one context)


def for_request(headers, conf):
    """The context of a registry request under ``conf``'s auth options."""
    return from_headers(headers, auth_strategy=conf.get("auth_strategy", "noauth"),
                        admin_role=conf.get("admin_role", "admin"),
                        owner_is_tenant=conf.get("owner_is_tenant", True))
