"""Who is asking, and what they may see and change.

One :class:`RequestContext` answers every policy question for glance-api and
glance-registry alike, so the two servers can never disagree about an image.
The ``can_*`` properties answer yes or no; the ``check_*`` methods raise the
refusal (:mod:`glance.errors`, with its status and message) that every route
answers with.  glance-api asks before it acts; glance-registry asks again for
callers that reach it directly.

How a request gets its identity depends on ``auth_strategy``:

* ``noauth`` (the single-node appliance): a request without identity
  headers is an admin with no user or tenant, as Glance was without an auth
  pipeline (python-glanceclient's ``--os-auth-token anything`` lands here).
  Identity headers are trusted as an auth proxy in front would set them;
  ``X-Identity-Status`` other than ``Confirmed`` makes the caller anonymous.
* ``keystone``: keystonemiddleware's ``auth_token`` has removed whatever
  identity headers the client sent and set its own.  Only
  ``X-Identity-Status: Confirmed`` identifies anyone; everything else is
  anonymous, and anonymous is never admin.

Anonymous callers read public (and community) images only and may write nothing.

Visibility (v2's truth; v1's ``is_public`` is ``visibility == "public"``):
``public`` and ``community`` images are readable by all, ``shared`` ones by
the owner, admins and members (whatever their status), ``private`` ones by
the owner and admins.
"""
from dataclasses import dataclass, field

from glance import options
from glance.errors import Forbidden, Unauthorized
from glance.rules import DELETED, PUBLIC, READABLE_BY_ALL, SHARED

NOAUTH = "noauth"
KEYSTONE = "keystone"

# Today's header first, then the legacy names Diablo's middleware set.
TENANT_HEADERS = ("X-Project-Id", "X-Tenant-Id", "X-Tenant")
USER_HEADERS = ("X-User-Id", "X-User")
ROLE_HEADERS = ("X-Roles", "X-Role")
IDENTITY_HEADERS = TENANT_HEADERS + USER_HEADERS + ROLE_HEADERS


def _field(image, name):
    """An attribute of an image, whether a registry row or an API dict."""
    if isinstance(image, dict):
        return image.get(name)
    return getattr(image, name, None)


def visibility_of(image):
    """The image's visibility; derived from ``is_public`` for a v1-shaped record."""
    visibility = _field(image, "visibility")
    if visibility:
        return visibility
    return PUBLIC if _field(image, "is_public") else SHARED


@dataclass(frozen=True)
class RequestContext:
    user: str | None = None
    tenant: str | None = None
    roles: tuple = field(default_factory=tuple)
    is_admin: bool = False
    anonymous: bool = False
    owner_is_tenant: bool = True
    allow_owner_publicize: bool = False

    @property
    def owner(self):
        """The owner images created by this caller get (None without an identity)."""
        return self.tenant if self.owner_is_tenant else self.user

    @property
    def may_write(self):
        """Anonymous callers write nothing (answered 401)."""
        return not self.anonymous

    def owns(self, image):
        return self.owner is not None and _field(image, "owner") == self.owner

    def can_see(self, image, is_member=False):
        """May the caller read ``image`` (its metadata and its data)?

        :param is_member: the caller's owner holds an undeleted membership
            (any status: a pending member may still look before accepting).
        """
        if self.is_admin:
            return True
        if _field(image, DELETED):
            return False
        visibility = visibility_of(image)
        if visibility in READABLE_BY_ALL:
            return True
        if self.anonymous:
            return False
        # An image without owner is readable by every identified caller
        # (Diablo's "beta image"), but listed only to admins.
        if _field(image, "owner") is None or self.owns(image):
            return True
        return visibility == SHARED and is_member

    def can_modify(self, image):
        """May the caller update or delete ``image``?"""
        return self.is_admin or (not self.anonymous and self.owns(image))

    def can_share(self, image, membership=None):
        """May the caller change the members of ``image``?

        :param membership: the caller's own membership row, if any.
        """
        if self.owner is None:
            return False            # sharing needs an identity, even for an admin
        return (self.is_admin or self.owns(image)
                or bool(membership is not None and _field(membership, "can_share")))

    def can_set_member_status(self, member):
        """Only the member itself (or an admin) accepts or rejects an image shared with it."""
        return self.is_admin or (self.owner is not None and self.owner == member)

    def can_see_members(self, image):
        """The member list is shown to the image owner and admins only.

        A member (even one that may share on) does not learn who else holds the image.
        """
        return self.is_admin or self.owns(image)

    def can_see_shared_with(self, tenant):
        """``/shared-images/<tenant>`` is shown to that tenant and to admins."""
        return self.is_admin or (self.owner is not None and self.owner == tenant)

    @property
    def lists(self):
        """What lists show the caller (the SQL form of :meth:`can_see`, minus unowned images).

        ``"all"`` (admin), ``"public"`` (no owner: anonymous, or no tenant), or
        ``"own"``: public images, the caller's owner's, and those shared with it.
        Images without owner stay readable by id but are listed only when public.
        """
        if self.is_admin:
            return "all"
        return "public" if self.owner is None else "own"

    # --- refusals -----------------------------------------------------------

    def check_identity(self):
        """:raises Unauthorized: anonymous callers write nothing."""
        if not self.may_write:
            raise Unauthorized("Authentication required")

    def check_modify(self, image):
        """May the caller change ``image`` (metadata, tags, data)?

        :raises Unauthorized: :raises Forbidden:
        """
        self.check_identity()
        if not self.can_modify(image):
            raise Forbidden("Forbidden to modify an image you do not own")

    def check_delete(self, image):
        """May the caller delete ``image``?  (One already deleted is the caller's 404.)

        :raises Unauthorized: :raises Forbidden: not the caller's, or protected.
        """
        self.check_identity()
        if not self.can_modify(image):
            raise Forbidden("Forbidden to delete an image you do not own")
        if _field(image, "protected"):
            raise Forbidden("Image is protected")

    def check_deactivate(self, image):
        """Glance's default policy: the owning project or an admin deactivates and
        reactivates an image.

        :raises Unauthorized: :raises Forbidden:
        """
        self.check_identity()
        if not self.can_modify(image):
            raise Forbidden("Forbidden to deactivate or reactivate an image you do not own")

    def check_owner(self, owner, current=None):
        """Only an admin gives an image an owner other than the one it has.

        :param current: the image's owner; None for a new image (the caller's owner).
        :raises Forbidden:
        """
        if not self.is_admin and owner != (current if current is not None else self.owner):
            raise Forbidden("Only an admin may set the owner of an image")

    def check_visibility(self, visibility, current=None):
        """Glance's default ``publicize_image`` policy: only an admin makes an image
        ``public`` (v2 visibility, v1 is_public=true), unless ``allow_owner_publicize``.
        ``community`` stays the owner's choice, and an image already public may stay so.

        :param current: the image's visibility; None for a new image.
        :raises Forbidden:
        """
        if (visibility == PUBLIC and current != PUBLIC and not self.is_admin
                and not self.allow_owner_publicize):
            raise Forbidden("Only an admin may make an image public")

    def check_location(self):
        """Only admins point an image at data: a location names an object our keys reach.

        :raises Forbidden:
        """
        if not self.is_admin:
            raise Forbidden("Only an admin may set the location of an image")

    def check_stores(self):
        """Glance's default ``copy_image`` and ``delete_image_location`` policies: only an
        admin copies an image's data into more stores or deletes it from one.

        :raises Forbidden:
        """
        if not self.is_admin:
            raise Forbidden("Only an admin may copy an image into stores or delete it "
                            "from one")

    def check_sharer(self):
        """:raises Unauthorized: no identity: sharing needs one, even for an admin (Diablo)."""
        if self.owner is None:
            raise Unauthorized("No authenticated user")

    def check_share(self, image, membership=None):
        """May the caller change the members of ``image`` (see :meth:`can_share`)?

        :raises Unauthorized: (see :meth:`check_sharer`). :raises Forbidden:
        """
        self.check_sharer()
        if not self.can_share(image, membership):
            raise Forbidden("No permission to share that image")

    def check_member_status(self, member):
        """May the caller accept or reject the membership of ``member``?

        :raises Unauthorized: no identity and not an admin.
        :raises Forbidden: the caller is not ``member`` (nor an admin).
        """
        if self.owner is None and not self.is_admin:
            raise Unauthorized("No authenticated user")
        if not self.can_set_member_status(member):
            raise Forbidden("Only the member itself may change its membership status")

    def check_see_members(self, image):
        """:raises Forbidden: the caller is neither the owner nor an admin."""
        if not self.can_see_members(image):
            raise Forbidden("Only the image owner may see its members")

    def check_see_shared_with(self, tenant):
        """:raises Forbidden: the caller is neither ``tenant`` nor an admin."""
        if not self.can_see_shared_with(tenant):
            raise Forbidden("Only that tenant may see the images shared with it")

    def check_admin(self):
        """:raises Unauthorized: anonymous. :raises Forbidden: not an admin."""
        self.check_identity()
        if not self.is_admin:
            raise Forbidden("You are not authorized to complete this action.")

    def can_see_namespace(self, namespace):
        """May the caller read a metadata definition namespace and what it holds?

        Public namespaces are read by every identified caller, private ones by
        their owner and admins (a private namespace without owner: admins only).
        Anonymous callers read no metadata definitions.
        """
        if self.is_admin:
            return True
        if self.anonymous:
            return False
        return _field(namespace, "visibility") == "public" or self.owns(namespace)

    @property
    def may_manage_metadefs(self):
        """Glance's default policy: only admins create, change or delete metadata definitions."""
        return self.is_admin

    def check_tasks_api(self):
        """Glance's default ``tasks_api_access``: the task API is for admins only.

        :raises Unauthorized: anonymous. :raises Forbidden: not an admin.
        """
        self.check_admin()

    def can_see_task(self, task):
        """An image's tasks: admins see all, others those of their project (or of nobody)."""
        return self.is_admin or _field(task, "owner") is None or self.owns(task)


def _first(headers, names):
    for name in names:
        value = headers.get(name)
        if value:
            return value.strip()
    return None


def _roles(headers):
    raw = _first(headers, ROLE_HEADERS) or ""
    return tuple(role.strip() for role in raw.split(",") if role.strip())


def for_request(headers, conf):
    """The context of a request to either server, under ``conf``'s auth options."""
    return from_headers(headers, auth_strategy=conf.auth_strategy, admin_role=conf.admin_role,
                        owner_is_tenant=conf.owner_is_tenant,
                        allow_owner_publicize=conf.allow_owner_publicize)


def from_headers(headers, *, auth_strategy=options.default("auth_strategy"),
                 admin_role=options.default("admin_role"),
                 owner_is_tenant=options.default("owner_is_tenant"),
                 allow_owner_publicize=options.default("allow_owner_publicize")):
    """The context of a request, from its headers (a case-insensitive mapping).

    :param auth_strategy: ``noauth`` or ``keystone`` (see the module docstring).
    :param admin_role: the role that makes a caller admin (case-insensitive).
    :param allow_owner_publicize: non-admins may make their images public.
    """
    status = headers.get("X-Identity-Status")
    if auth_strategy == KEYSTONE:
        identified = status == "Confirmed"
    elif status is not None:
        identified = status == "Confirmed"
    elif not any(headers.get(name) for name in IDENTITY_HEADERS):
        return RequestContext(is_admin=True, owner_is_tenant=owner_is_tenant,
                              allow_owner_publicize=allow_owner_publicize)
    else:
        identified = True
    if not identified:
        return RequestContext(anonymous=True, owner_is_tenant=owner_is_tenant,
                              allow_owner_publicize=allow_owner_publicize)
    roles = _roles(headers)
    wanted = admin_role.lower()
    return RequestContext(
        user=_first(headers, USER_HEADERS),
        tenant=_first(headers, TENANT_HEADERS),
        roles=roles,
        is_admin=any(role.lower() == wanted for role in roles),
        owner_is_tenant=owner_is_tenant,
        allow_owner_publicize=allow_owner_publicize,
    )
