"""Who is asking: the request context built from the auth headers.

Without ``X-Auth-Token`` the registry runs as Glance did with no auth
pipeline: every caller is an admin with no user or tenant ("noauth").  With a
token, the identity headers an auth middleware (or glance-api) set are used.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RequestContext:
    user: str | None = None
    tenant: str | None = None
    roles: tuple = field(default_factory=tuple)
    is_admin: bool = False
    owner_is_tenant: bool = True

    @property
    def owner(self):
        """The owner images created by this caller get."""
        return self.tenant if self.owner_is_tenant else self.user

    def is_visible(self, image, member_of=False):
        """Can the caller read ``image``?

        :param member_of: the caller's owner holds an undeleted membership.
        """
        if self.is_admin:
            return True
        if image.deleted:
            return False
        if image.owner is None or image.is_public:
            return True
        return self.owner is not None and (image.owner == self.owner or member_of)

    def is_mutable(self, image):
        """Can the caller update or delete ``image``?"""
        if self.is_admin:
            return True
        return image.owner is not None and self.owner is not None and image.owner == self.owner


def from_headers(headers, owner_is_tenant=True):
    """Build the context of a request from its headers (a case-insensitive mapping)."""
    if not headers.get("X-Auth-Token"):
        return RequestContext(is_admin=True, owner_is_tenant=owner_is_tenant)
    if headers.get("X-Identity-Status", "Confirmed") != "Confirmed":
        return RequestContext(owner_is_tenant=owner_is_tenant)
    roles = tuple(r.strip() for r in headers.get("X-Role", "").split(",") if r.strip())
    return RequestContext(
        user=headers.get("X-User") or None,
        tenant=headers.get("X-Tenant") or None,
        roles=roles,
        is_admin=any(r.lower() == "admin" for r in roles),
        owner_is_tenant=owner_is_tenant,
    )
