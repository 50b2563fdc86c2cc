"""Publishing is admin-only by default (Glance's publicize_image policy), in the registry
itself: a caller that reaches it directly is refused too, and nothing changes."""
import pytest

from contract.registry import as_user, queued
from contract.registry_support import InProcessRegistry
from glance import errors

ALICE, ADMIN = as_user("alice"), as_user("ops", roles="admin")


@pytest.fixture(params=[False, True], ids=["default", "allow_owner_publicize"])
def registry(request):
    client = InProcessRegistry.in_memory(allow_owner_publicize=request.param)
    yield client, request.param
    client.engine.dispose()


def test_only_an_admin_publishes_unless_the_option_allows_owners(registry):
    client, allowed = registry
    mine = client.create(queued(is_public=False, visibility="private"), headers=ALICE)
    attempts = (lambda: client.create(queued(name="p1", is_public=True), headers=ALICE),
                lambda: client.create(queued(name="p2", visibility="public"), headers=ALICE),
                lambda: client.update(mine["id"], {"is_public": True}, headers=ALICE),
                lambda: client.update(mine["id"], {"visibility": "public"}, headers=ALICE))
    for attempt in attempts:
        if allowed:
            attempt()
        else:
            with pytest.raises(errors.Forbidden, match="Only an admin may make an image public"):
                attempt()
    if not allowed:
        assert client.get(mine["id"], headers=ALICE)["visibility"] == "private"
        assert [i["id"] for i in client.list(detail=True, headers=ALICE)] == [mine["id"]]
    # community stays the owner's; an admin publishes anyone's image
    assert client.update(mine["id"], {"visibility": "community"},
                         headers=ALICE)["visibility"] == "community"
    assert client.update(mine["id"], {"visibility": "public"},
                         headers=ADMIN)["visibility"] == "public"
    # an image already public may stay so (v1 clients echo is_public on update)
    assert client.update(mine["id"], {"is_public": True, "name": "n"},
                         headers=ALICE)["visibility"] == "public"
