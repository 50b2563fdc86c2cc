"""The visibility matrix in keystone mode: real tokens from a real Keystone.

The same table as the noauth run (``matrix.py``), driven with tokens of users
of the projects owner, other, member and admin, and with callers that must
fare exactly as one of those: no token, a token Keystone does not know, a
revoked token, and a client that sends a valid non-admin token (or none)
together with forged identity headers claiming admin and the owner's project.

Then the same callers straight against glance-registry: a tenant who reaches
its port can do nothing it could not do through glance-api.
"""
import pytest
import requests

from matrix import CALLERS, READ, WRITES, Matrix

ALIASES = {"invalid": "anonymous", "revoked": "anonymous", "forged": "other",
           "forged_anonymous": "anonymous"}
EVERY_CALLER = list(CALLERS) + sorted(ALIASES)
# Routes whose registry form is tried directly: (method, path, JSON body).
REGISTRY_WRITES = {
    "update": ("PUT", "/images/{id}", {"image": {"name": "renamed on the registry"}}),
    "delete": ("DELETE", "/images/{id}", None),
    "add_member": ("PUT", "/images/{id}/members/newcomer", None),
    "remove_member": ("DELETE", "/images/{id}/members/{member}", None),
    "replace_members": ("PUT", "/images/{id}/members",
                        {"memberships": [{"member_id": "newcomer"}]}),
}


def forged_identity(glance):
    """Identity headers a client makes up: admin, in the owner's project, confirmed."""
    owner = glance.keystone.accounts["owner"]
    return {"X-Identity-Status": "Confirmed", "X-Roles": "admin,member", "X-Role": "admin",
            "X-Project-Id": owner["project_id"], "X-Tenant-Id": owner["project_id"],
            "X-Tenant": owner["project_id"], "X-Project-Name": "owner",
            "X-User-Id": owner["user_id"], "X-User": "owner", "X-Is-Admin-Project": "True",
            "X-Service-Identity-Status": "Confirmed", "X-Service-Roles": "admin"}


@pytest.fixture(scope="module")
def callers(keystone_glance):
    glance = keystone_glance
    ks = glance.keystone
    revoked = ks.token("other", "other-secret", "other")[0]
    ks.revoke(revoked)

    def token_of(name):
        return lambda: {"X-Auth-Token": glance.token(name)}

    return {
        "owner": token_of("owner"),
        "other": token_of("other"),
        "member": token_of("member"),
        "admin": token_of("admin"),
        "anonymous": lambda: {},
        "invalid": lambda: {"X-Auth-Token": "gAAAAABnot-a-token-keystone-ever-issued"},
        "revoked": lambda: {"X-Auth-Token": revoked},
        "forged": lambda: {"X-Auth-Token": glance.token("other"), **forged_identity(glance)},
        "forged_anonymous": lambda: forged_identity(glance),
    }


@pytest.fixture(scope="module")
def matrix(keystone_glance, callers):
    member = keystone_glance.keystone.accounts["member"]["project_id"]
    return Matrix(keystone_glance.api.url, callers, member_id=member, aliases=ALIASES)


def test_owner_is_the_project_id(matrix, keystone_glance):
    images = matrix.make_images()
    image_id = images["private"][0]
    head = matrix.call("owner", "HEAD", f"/v1/images/{image_id}")
    assert head.headers["x-image-meta-owner"] == keystone_glance.keystone.accounts["owner"][
        "project_id"]


def test_reads(matrix):
    assert matrix.check_reads(matrix.make_images()) == []


@pytest.mark.parametrize("route", sorted(WRITES))
@pytest.mark.parametrize("caller", EVERY_CALLER)
def test_writes(matrix, route, caller):
    assert matrix.check_write(route, caller) == []


@pytest.mark.parametrize("caller", EVERY_CALLER)
def test_create(matrix, caller):
    assert matrix.check_create(caller) == []


def test_a_member_may_share_on_only_with_can_share(matrix):
    assert matrix.check_share_on() == []


def test_refusals_say_where_to_authenticate(matrix, keystone_glance):
    """An anonymous write is 401 with keystonemiddleware's WWW-Authenticate pointing at Keystone."""
    answer = matrix.call("anonymous", "POST", "/v1/images", headers={"x-image-meta-name": "x"})
    assert answer.status_code == 401
    assert keystone_glance.keystone.url in answer.headers.get("WWW-Authenticate", "")


# --- straight to glance-registry --------------------------------------------------------

class Registry:
    """The matrix's callers, talking JSON to glance-registry instead of glance-api."""

    def __init__(self, url, matrix):
        self.url, self.matrix = url, matrix
        self.session = requests.Session()

    def call(self, caller, method, path, body=None, headers=None):
        sent = {**self.matrix.callers[caller](), **(headers or {})}
        return self.session.request(method, self.url + path, json=body, headers=sent, timeout=30)

    def listed(self, caller):
        answer = self.call(caller, "GET", "/images/detail?is_public=None&limit=1000")
        assert answer.status_code == 200, answer.text
        return {image["id"] for image in answer.json()["images"]}


@pytest.fixture(scope="module")
def registry(keystone_glance, matrix):
    return Registry(keystone_glance.registry.url, matrix)


def test_registry_reads_match_the_api(matrix, registry):
    images = matrix.make_images()
    wrong = []
    for caller in matrix.callers:
        listed = registry.listed(caller)
        for kind, (image_id, _) in images.items():
            want = READ[kind][matrix.column(caller)]
            got = registry.call(caller, "GET", f"/images/{image_id}")
            if got.status_code != want:
                wrong.append(f"{caller} GET {kind}: {got.status_code}, want {want}")
            if want != 200 and image_id in got.text:
                wrong.append(f"{caller} GET {kind}: a refusal shows the image")
            if (image_id in listed) != (want == 200):
                wrong.append(f"{caller} detail {kind}: listed={image_id in listed}")
    assert wrong == []


@pytest.mark.parametrize("route", sorted(REGISTRY_WRITES))
@pytest.mark.parametrize("caller", sorted(ALIASES) + ["other", "member", "anonymous"])
def test_registry_writes_no_more_than_the_api(matrix, registry, route, caller):
    """Whatever glance-api refuses a caller, the registry refuses too, and nothing changes."""
    method, path, body = REGISTRY_WRITES[route]
    wrong = []
    for kind, (image_id, _) in matrix.make_images().items():
        want = WRITES[route][kind][matrix.column(caller)]
        before = matrix.snapshot(image_id)
        answer = registry.call(caller, method, path.format(id=image_id, member=matrix.member_id),
                               body)
        if (answer.status_code < 300) != (want < 300):
            wrong.append(f"{caller} {route} {kind} on the registry: {answer.status_code}, "
                         f"through the API {want}")
        if answer.status_code >= 400 and matrix.snapshot(image_id) != before:
            wrong.append(f"{caller} {route} {kind} on the registry: refused, but the image changed")
    assert wrong == []


@pytest.mark.parametrize("values", [
    {"status": "active"}, {"status": "killed"}, {"location": "file:///etc/glance/glance-api.conf"},
    {"checksum": "0" * 32}, {"size": 1}, {"owner": "someone-else"},
], ids=lambda values: next(iter(values)))
@pytest.mark.parametrize("caller", ["owner", "forged"])
def test_registry_system_fields_are_glances_alone(matrix, registry, caller, values):
    """The owner (and a forger) cannot set what only glance sets, on its own image either."""
    image_id = matrix.make_images()["private"][0]
    before = matrix.snapshot(image_id)
    answer = registry.call(caller, "PUT", f"/images/{image_id}", {"image": values})
    # the owner is refused; a forger is the other project, who cannot see a private image
    assert answer.status_code == (403 if caller == "owner" else 404), answer.text
    assert matrix.snapshot(image_id) == before


@pytest.mark.parametrize("caller", ["owner", "forged", "anonymous", "forged_anonymous"])
def test_registry_create_cannot_point_at_data(matrix, registry, caller):
    """No tenant registers an active image with a location of its choosing on the registry."""
    before = registry.listed("admin")
    answer = registry.call(caller, "POST", "/images", {"image": {
        "name": "sneaky", "disk_format": "raw", "container_format": "bare", "status": "active",
        "location": "file:///etc/glance/glance-api.conf", "size": 10}})
    # a token gets 403 (forged headers are ignored: "forged" is the other project), none 401
    assert answer.status_code == (403 if caller in ("owner", "forged") else 401), answer.text
    assert registry.listed("admin") == before


def test_registry_accepts_glances_service_token(matrix, registry, keystone_glance):
    """The service user (admin in project service) is how glance-api writes system fields."""
    ks = keystone_glance.keystone
    token = ks.token("glance", "glance-secret", "service")[0]
    image_id = matrix.make_images()["private"][0]
    answer = requests.put(f"{registry.url}/images/{image_id}", timeout=30,
                          headers={"X-Auth-Token": token},
                          json={"image": {"properties": {"checked_by": "glance"}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["image"]["properties"]["checked_by"] == "glance"
