"""The visibility matrix in noauth mode, identity headers trusted as an auth proxy sets them."""
import pytest

from matrix import WRITES, Matrix


def identity(project, roles="member"):
    return lambda: {"X-Identity-Status": "Confirmed", "X-Project-Id": project,
                    "X-User-Id": f"user-of-{project}", "X-Roles": roles}


CALLER_HEADERS = {
    "owner": identity("project-a"),
    "other": identity("project-b"),
    "member": identity("project-c"),
    "admin": identity("project-ops", "member,admin"),
    "anonymous": lambda: {"X-Identity-Status": "Invalid"},
    # Identity headers a client sends itself, today's and legacy names, no X-Identity-Status:
    # noauth trusts them (that is what noauth means), so this client is the owner.
    "forged": lambda: {"X-Auth-Token": "anything", "X-Tenant": "project-a", "X-User": "mallory"},
    # A client claiming admin while an auth proxy said its token is invalid: anonymous.
    "forged-admin": lambda: {"X-Identity-Status": "Invalid", "X-Project-Id": "project-ops",
                             "X-Roles": "admin"},
}
ALIASES = {"forged": "owner", "forged-admin": "anonymous"}


@pytest.fixture(scope="module")
def matrix(api_server):
    return Matrix(api_server.url, CALLER_HEADERS, member_id="project-c", aliases=ALIASES)


def test_reads(matrix):
    assert matrix.check_reads(matrix.make_images()) == []


@pytest.mark.parametrize("route", sorted(WRITES))
@pytest.mark.parametrize("caller", sorted(CALLER_HEADERS))
def test_writes(matrix, route, caller):
    assert matrix.check_write(route, caller) == []


@pytest.mark.parametrize("caller", sorted(CALLER_HEADERS))
def test_create(matrix, caller):
    assert matrix.check_create(caller) == []


def test_a_member_may_share_on_only_with_can_share(matrix):
    assert matrix.check_share_on() == []


def test_no_identity_is_the_appliance_admin(matrix, api_server):
    """noauth without identity headers (glanceclient's --os-auth-token anything) is admin."""
    images = matrix.make_images()
    for image_id, _ in images.values():
        answer = matrix.session.head(f"{api_server.url}/v1/images/{image_id}",
                                     headers={"X-Auth-Token": "anything"})
        assert answer.status_code == 200
