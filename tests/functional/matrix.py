"""Who may do what to which image, through glance-api: the expectation table and its driver.

Shared by the noauth run (trusted identity headers) and the keystone run (real
tokens): each supplies ``callers``, a mapping of caller name to a function
that returns that caller's request headers.  The callers are

* ``owner``  – the project that owns every image below,
* ``other``  – an unrelated project,
* ``member`` – a project the ``shared`` image is shared with (without can_share),
* ``admin``  – a project whose user has the admin role,
* ``anonymous`` – no identity.

More callers may be given with ``aliases={name: column}``: they are checked
against that column.  A client that sends identity headers itself (``forged``)
must fare exactly as the caller it really is: under keystone, ``other`` (its own
token plus the owner's X-Project-Id) or ``anonymous`` (no token); under noauth
the headers are trusted by design (an auth proxy or a trusted network), so a
client naming the owner's project *is* the owner.

Image kinds, all owned by ``owner``: ``public``; ``private``; ``shared``
(private, ``member`` added); ``protected`` (private and protected).
"""
import hashlib

import requests

KINDS = ("public", "private", "shared", "protected")
CALLERS = ("owner", "other", "member", "admin", "anonymous")
MEMBER = "member"     # name of the member caller; its project id comes from ``member_id``


def _row(public, private, shared, protected):
    return {"public": public, "private": private, "shared": shared, "protected": protected}


def _by_caller(**columns):
    """``{kind: {caller: status}}`` from one keyword per caller, each a tuple in KINDS order."""
    return {kind: {caller: columns[caller][i] for caller in CALLERS}
            for i, kind in enumerate(KINDS)}


# Reads: HEAD and GET answer the same; list membership follows HEAD == 200.
READ = _by_caller(
    owner=(200, 200, 200, 200),
    other=(200, 404, 404, 404),
    member=(200, 404, 200, 404),
    admin=(200, 200, 200, 200),
    anonymous=(200, 404, 404, 404),
)

# GET /v1/images/<id>/members: the owner and admins only; 404 where the image is invisible.
MEMBERS = _by_caller(
    owner=(200, 200, 200, 200),
    other=(403, 404, 404, 404),
    member=(403, 404, 403, 404),
    admin=(200, 200, 200, 200),
    anonymous=(403, 404, 404, 404),
)

# Writes.  Anonymous is 401 everywhere; invisible is 404; visible but not yours is 403.
UPDATE = _by_caller(
    owner=(200, 200, 200, 200),
    other=(403, 404, 404, 404),
    member=(403, 404, 403, 404),
    admin=(200, 200, 200, 200),
    anonymous=(401, 401, 401, 401),
)
DELETE = _by_caller(
    owner=(200, 200, 200, 403),
    other=(403, 404, 404, 404),
    member=(403, 404, 403, 404),
    admin=(200, 200, 200, 403),
    anonymous=(401, 401, 401, 401),
)
SHARE = _by_caller(            # PUT and DELETE /v1/images/<id>/members/<m>
    owner=(204, 204, 204, 204),
    other=(403, 404, 404, 404),
    member=(403, 404, 403, 404),
    admin=(204, 204, 204, 204),
    anonymous=(401, 401, 401, 401),
)
# PUT /v1/images/<id>/members (replace the list) follows the same rule as one member.
WRITES = {"update": UPDATE, "delete": DELETE, "add_member": SHARE, "remove_member": SHARE,
          "replace_members": SHARE}

# GET /v1/shared-images/<member's project>: that project and admins.
SHARED_IMAGES = {"owner": 403, "other": 403, "member": 200, "admin": 200, "anonymous": 403}
# POST /v1/images: any identified caller; owner and location only for admins.
CREATE = {"owner": 201, "other": 201, "member": 201, "admin": 201, "anonymous": 401}
CREATE_WITH_OWNER = {"owner": 403, "other": 403, "member": 403, "admin": 201, "anonymous": 401}
CREATE_WITH_LOCATION = {"owner": 403, "other": 403, "member": 403, "admin": 201,
                        "anonymous": 401}


class Matrix:
    """Drive the table against one glance-api.

    :param url: glance-api's base URL.
    :param callers: caller name -> function returning that caller's headers.
    :param member_id: the project id of the ``member`` caller.
    :param aliases: extra caller name -> the column of CALLERS it must match.
    """

    def __init__(self, url, callers, member_id, aliases=None):
        self.url = url.rstrip("/")
        self.callers = callers
        self.member_id = member_id
        self.aliases = dict(aliases or {})
        self.session = requests.Session()

    def column(self, caller):
        """The table column ``caller`` is checked against."""
        return self.aliases.get(caller, caller)

    def call(self, caller, method, path, **kw):
        headers = {**self.callers[caller](), **kw.pop("headers", {})}
        return self.session.request(method, self.url + path, headers=headers, timeout=30, **kw)

    # -- fixtures ------------------------------------------------------------

    def make_images(self):
        """One image of each kind, with data; ``{kind: (id, data)}``."""
        made = {}
        for kind in KINDS:
            data = f"{kind} image data ".encode() * 100
            headers = {"Content-Type": "application/octet-stream",
                       "x-image-meta-name": f"matrix-{kind}",
                       "x-image-meta-disk_format": "raw", "x-image-meta-container_format": "bare",
                       "x-image-meta-protected": str(kind == "protected"),
                       "x-image-meta-property-kind": kind}
            answer = self.call("owner", "POST", "/v1/images", data=data, headers=headers)
            assert answer.status_code == 201, answer.text
            image_id = answer.json()["image"]["id"]
            if kind == "public":       # publishing is an admin's (Glance's default policy)
                published = self.call("admin", "PUT", f"/v1/images/{image_id}",
                                      headers={"x-image-meta-is_public": "True",
                                               "x-glance-registry-purge-props": "false"})
                assert published.status_code == 200, published.text
            if kind == "shared":
                shared = self.call("owner", "PUT", f"/v1/images/{image_id}/members/{self.member_id}")
                assert shared.status_code == 204, shared.text
            made[kind] = (image_id, data)
        return made

    def snapshot(self, image_id):
        """What an admin sees of an image: metadata, properties, members and data's MD5."""
        head = self.call("admin", "HEAD", f"/v1/images/{image_id}")
        meta = {k.lower(): v for k, v in head.headers.items()
                if k.lower().startswith("x-image-meta-") and k.lower() != "x-image-meta-updated_at"}
        members = self.call("admin", "GET", f"/v1/images/{image_id}/members")
        members = members.json() if members.status_code == 200 else members.status_code
        data = self.call("admin", "GET", f"/v1/images/{image_id}")
        digest = hashlib.md5(data.content).hexdigest() if data.status_code == 200 else None
        return {"status": head.status_code, "meta": meta, "members": members, "md5": digest}

    # -- the routes ----------------------------------------------------------

    def listed(self, caller, path):
        answer = self.call(caller, "GET", path)
        assert answer.status_code == 200, answer.text
        return {image["id"] for image in answer.json()["images"]}

    def check_reads(self, images):
        """HEAD, GET (with the right bytes), detail and index lists; mismatches as text."""
        wrong = []
        for caller in self.callers:
            column = self.column(caller)
            detail = self.listed(caller, "/v1/images/detail?is_public=None&limit=1000")
            index = self.listed(caller, "/v1/images?limit=1000")
            for kind, (image_id, data) in images.items():
                want = READ[kind][column]
                head = self.call(caller, "HEAD", f"/v1/images/{image_id}").status_code
                got = self.call(caller, "GET", f"/v1/images/{image_id}")
                if head != want or got.status_code != want:
                    wrong.append(f"{caller} HEAD/GET {kind}: {head}/{got.status_code}, want {want}")
                if want == 200 and got.content != data:
                    wrong.append(f"{caller} GET {kind}: wrong bytes")
                if want != 200 and kind in got.text:
                    wrong.append(f"{caller} GET {kind}: refusal shows image data")
                if (image_id in detail) != (want == 200):
                    wrong.append(f"{caller} detail list {kind}: listed={image_id in detail}")
                # Non-admins list what they may see; an admin's default list is public only.
                in_index = want == 200 and (column != "admin" or kind == "public")
                if (image_id in index) != in_index:
                    wrong.append(f"{caller} index list {kind}: listed={image_id in index}")
                members = self.call(caller, "GET", f"/v1/images/{image_id}/members")
                want = MEMBERS[kind][column]
                if members.status_code != want:
                    wrong.append(f"{caller} members of {kind}: {members.status_code}, "
                                 f"want {want}")
                elif want == 200:
                    ids = [m["member_id"] for m in members.json()["members"]]
                    if ids != ([self.member_id] if kind == "shared" else []):
                        wrong.append(f"{caller} members of {kind}: lists {ids}")
                # One membership: as the list, and 404 where there is none to show.
                one = self.call(caller, "GET", f"/v1/images/{image_id}/members/{self.member_id}")
                want_one = 404 if want == 200 and kind != "shared" else want
                if one.status_code != want_one:
                    wrong.append(f"{caller} member of {kind}: {one.status_code}, "
                                 f"want {want_one}")
            shared = self.call(caller, "GET", f"/v1/shared-images/{self.member_id}")
            if shared.status_code != SHARED_IMAGES[column]:
                wrong.append(f"{caller} shared-images: {shared.status_code}")
            elif shared.status_code == 200:
                ids = {item["image_id"] for item in shared.json()["shared_images"]}
                if images["shared"][0] not in ids:
                    wrong.append(f"{caller} shared-images misses the shared image")
                if ids & {images[k][0] for k in KINDS if k != "shared"}:
                    wrong.append(f"{caller} shared-images lists images not shared")
        return wrong

    def write(self, route, caller, image_id):
        if route == "update":
            return self.call(caller, "PUT", f"/v1/images/{image_id}",
                             headers={"x-image-meta-name": f"renamed by {caller}",
                                      "x-glance-registry-purge-props": "false"})
        if route == "delete":
            return self.call(caller, "DELETE", f"/v1/images/{image_id}")
        if route == "replace_members":
            return self.call(caller, "PUT", f"/v1/images/{image_id}/members",
                             json={"memberships": [{"member_id": "newcomer"}]})
        if route == "add_member":
            return self.call(caller, "PUT", f"/v1/images/{image_id}/members/newcomer")
        return self.call(caller, "DELETE", f"/v1/images/{image_id}/members/{self.member_id}")

    def check_write(self, route, caller):
        """One write by ``caller`` on a fresh image of each kind; refused ones change nothing."""
        wrong = []
        for kind, (image_id, _) in self.make_images().items():
            before = self.snapshot(image_id)
            answer = self.write(route, caller, image_id)
            want = WRITES[route][kind][self.column(caller)]
            if answer.status_code != want:
                wrong.append(f"{caller} {route} {kind}: {answer.status_code} "
                             f"({answer.text.strip()[:80]}), want {want}")
            if answer.status_code >= 400 and self.snapshot(image_id) != before:
                wrong.append(f"{caller} {route} {kind}: refused, but the image changed")
        return wrong

    def check_create(self, caller):
        wrong = []
        cases = ((CREATE, {}), (CREATE_WITH_OWNER, {"x-image-meta-owner": "someone-else"}),
                 (CREATE_WITH_LOCATION,
                  {"x-image-meta-location": "http://8.8.8.8/images/cirros.img",
                   "x-image-meta-size": "1"}))
        for table, extra in cases:
            before = self.listed("admin", "/v1/images/detail?is_public=None&limit=1000")
            answer = self.call(caller, "POST", "/v1/images",
                               headers={"x-image-meta-name": f"new by {caller}", **extra})
            want = table[self.column(caller)]
            if answer.status_code != want:
                wrong.append(f"{caller} create {sorted(extra)}: {answer.status_code} "
                             f"({answer.text.strip()[:80]}), want {want}")
            after = self.listed("admin", "/v1/images/detail?is_public=None&limit=1000")
            if answer.status_code >= 400 and after != before:
                wrong.append(f"{caller} create {sorted(extra)}: refused, but an image appeared")
        return wrong

    def check_share_on(self):
        """``can_share`` lets a member share on, and only that: it still cannot see the list,
        change the image, or delete it.  Uses the ``owner`` and ``member`` callers."""
        wrong = []
        image_id, _ = self.make_images()["private"]
        granted = self.call("owner", "PUT", f"/v1/images/{image_id}/members/{self.member_id}",
                            json={"member": {"can_share": True}})
        if granted.status_code != 204:
            return [f"owner grants can_share: {granted.status_code}"]
        shared_on = self.call("member", "PUT", f"/v1/images/{image_id}/members/newcomer")
        if shared_on.status_code != 204:
            wrong.append(f"member with can_share shares on: {shared_on.status_code}")
        listed = self.call("owner", "GET", f"/v1/images/{image_id}/members").json()["members"]
        if sorted(m["member_id"] for m in listed) != sorted([self.member_id, "newcomer"]):
            wrong.append(f"members after sharing on: {listed}")
        before = self.snapshot(image_id)
        for method, path, want in (
                ("GET", f"/v1/images/{image_id}/members", 403),
                ("PUT", f"/v1/images/{image_id}", 403),
                ("DELETE", f"/v1/images/{image_id}", 403)):
            got = self.call("member", method, path, headers={"x-image-meta-name": "mine now"})
            if got.status_code != want:
                wrong.append(f"member with can_share {method} {path}: {got.status_code}")
        if self.snapshot(image_id) != before:
            wrong.append("member with can_share changed the image")
        return wrong
