"""The one RequestContext: how headers become a caller, and every policy rule."""
from types import SimpleNamespace

import pytest

from glance.context import from_headers
from glance.errors import Forbidden, Unauthorized


def confirmed(project="p1", roles="member", **extra):
    return {"X-Identity-Status": "Confirmed", "X-Project-Id": project,
            "X-User-Id": f"u-{project}", "X-Roles": roles, **extra}


def image(owner="p1", is_public=False, deleted=False, protected=False):
    return {"owner": owner, "is_public": is_public, "deleted": deleted, "protected": protected}


def test_noauth_without_identity_is_admin_with_no_owner():
    for headers in ({}, {"X-Auth-Token": "anything"}):
        ctx = from_headers(headers)
        assert ctx.is_admin and ctx.owner is None and not ctx.anonymous


def test_noauth_trusts_identity_headers_today_and_legacy():
    assert from_headers(confirmed("p1")).owner == "p1"
    legacy = from_headers({"X-Tenant": "t1", "X-User": "u1", "X-Role": "Admin"})
    assert legacy.owner == "t1" and legacy.user == "u1" and legacy.is_admin


def test_unconfirmed_identity_is_anonymous_in_both_modes():
    for strategy in ("noauth", "keystone"):
        ctx = from_headers(confirmed(roles="admin", **{"X-Identity-Status": "Invalid"}),
                           auth_strategy=strategy)
        assert ctx.anonymous and not ctx.is_admin and ctx.owner is None


def test_keystone_without_a_confirmed_identity_is_never_admin():
    assert from_headers({}, auth_strategy="keystone").anonymous
    forged = {"X-Project-Id": "victim", "X-Roles": "admin"}
    ctx = from_headers(forged, auth_strategy="keystone")
    assert ctx.anonymous and not ctx.is_admin


@pytest.mark.parametrize("roles, role, admin", [
    ("member", "admin", False), ("member,Admin", "admin", True),
    ("cloud-admin", "admin", False), ("cloud-admin", "Cloud-Admin", True)])
def test_admin_is_the_configured_role(roles, role, admin):
    assert from_headers(confirmed(roles=roles), admin_role=role).is_admin is admin


def test_owner_is_the_user_when_owner_is_tenant_is_off():
    assert from_headers(confirmed("p1"), owner_is_tenant=False).owner == "u-p1"


def test_visibility():
    owner, other = from_headers(confirmed("p1")), from_headers(confirmed("p2"))
    anonymous = from_headers({"X-Identity-Status": "Invalid"})
    admin = from_headers(confirmed("ops", "admin"))
    private, public = image(), image(is_public=True)
    assert owner.can_see(private) and admin.can_see(private)
    assert not other.can_see(private) and other.can_see(private, is_member=True)
    assert not anonymous.can_see(private) and not anonymous.can_see(private, is_member=True)
    assert all(c.can_see(public) for c in (owner, other, anonymous, admin))
    unowned = image(owner=None)
    assert other.can_see(unowned) and not anonymous.can_see(unowned)
    assert not owner.can_see(image(deleted=True)) and admin.can_see(image(deleted=True))


def test_mutability_and_sharing():
    owner, other = from_headers(confirmed("p1")), from_headers(confirmed("p2"))
    admin, noauth = from_headers(confirmed("ops", "admin")), from_headers({})
    anonymous = from_headers({"X-Identity-Status": "Invalid"})
    public = image(is_public=True)
    assert owner.can_modify(public) and admin.can_modify(public) and noauth.can_modify(public)
    assert not other.can_modify(public) and not other.can_modify(image(owner=None))
    assert owner.can_share(public) and admin.can_share(public)
    assert not noauth.can_share(public)                     # sharing needs an identity
    assert not other.can_share(public, {"can_share": False})
    assert other.can_share(public, {"can_share": True})
    assert owner.can_see_members(public) and admin.can_see_members(public)
    assert not other.can_see_members(public)              # a sharing member included
    assert admin.can_see_shared_with("p2") and not anonymous.can_see_shared_with(None)
    assert other.can_see_shared_with("p2") and not other.can_see_shared_with("p1")
    admin.check_owner("anyone", "p1")
    admin.check_location()
    owner.check_owner("p1")                                   # its own owner: no change
    with pytest.raises(Forbidden, match="^Only an admin may set the owner of an image$"):
        owner.check_owner("p2")
    with pytest.raises(Forbidden, match="^Only an admin may set the location of an image$"):
        owner.check_location()


def test_each_refusal_has_one_status_and_one_message():
    owner, other = from_headers(confirmed("p1")), from_headers(confirmed("p2"))
    noauth = from_headers({})
    anonymous = from_headers({"X-Identity-Status": "Invalid"})
    mine, protected = image(), image(protected=True)
    for check in (anonymous.check_identity, lambda: anonymous.check_modify(mine),
                  lambda: anonymous.check_delete(mine)):
        with pytest.raises(Unauthorized, match="^Authentication required$"):
            check()
    with pytest.raises(Forbidden, match="^Forbidden to modify an image you do not own$"):
        other.check_modify(mine)
    with pytest.raises(Forbidden, match="^Forbidden to delete an image you do not own$"):
        other.check_delete(mine)
    with pytest.raises(Forbidden, match="^Image is protected$"):
        owner.check_delete(protected)
    owner.check_modify(protected)
    with pytest.raises(Unauthorized, match="^No authenticated user$"):
        noauth.check_share(mine)                            # sharing needs an identity
    with pytest.raises(Forbidden, match="^No permission to share that image$"):
        other.check_share(mine)
    with pytest.raises(Forbidden, match="^Only the member itself may change"):
        owner.check_member_status("p2")
    with pytest.raises(Unauthorized):
        anonymous.check_member_status("p2")
    with pytest.raises(Forbidden, match="^You are not authorized to complete this action.$"):
        owner.check_admin()


def test_anonymous_writes_shares_and_lists_nothing_in_both_modes():
    public = image(is_public=True)
    for strategy in ("noauth", "keystone"):
        anon = from_headers({"X-Identity-Status": "Invalid", "X-Roles": "admin",
                             "X-Project-Id": "p1"}, auth_strategy=strategy)
        assert not anon.may_write and not anon.can_modify(public)
        assert not anon.can_share(public, {"can_share": True})
        assert not anon.can_see_members(public) and not anon.can_see_shared_with("p1")
        with pytest.raises(Forbidden):
            anon.check_owner("p1")
        with pytest.raises(Forbidden):
            anon.check_location()


def test_keystone_confirmed_reads_today_and_legacy_headers():
    today = from_headers(confirmed("p1", "Admin"), auth_strategy="keystone")
    assert today.owner == "p1" and today.user == "u-p1" and today.is_admin
    legacy = from_headers({"X-Identity-Status": "Confirmed", "X-Tenant-Id": "t2",
                           "X-User": "u2", "X-Role": " member , admin "},
                          auth_strategy="keystone")
    assert legacy.owner == "t2" and legacy.roles == ("member", "admin") and legacy.is_admin
    both = from_headers({"X-Identity-Status": "Confirmed", "X-Project-Id": "new",
                         "X-Tenant": "old"}, auth_strategy="keystone")
    assert both.owner == "new"                              # today's header wins


def test_a_caller_without_tenant_owns_nothing():
    nobody = from_headers({"X-Identity-Status": "Confirmed", "X-Roles": "member"})
    unowned = image(owner=None)
    assert nobody.owner is None and not nobody.is_admin
    assert not nobody.owns(unowned) and not nobody.can_modify(unowned)
    assert not nobody.can_share(image(is_public=True))


def test_membership_grants_reading_not_writing_and_rows_work_too():
    member = from_headers(confirmed("p2"))
    row = SimpleNamespace(owner="p1", is_public=False, deleted=False)   # a registry row
    assert member.can_see(row, is_member=True) and not member.can_see(row)
    assert not member.can_modify(row) and not member.can_see_members(row)
    assert not member.can_see(image(deleted=True), is_member=True)


def test_what_lists_show():
    assert from_headers({}).lists == "all"
    assert from_headers(confirmed("ops", "admin")).lists == "all"
    assert from_headers(confirmed("p1")).lists == "own"
    assert from_headers({"X-Identity-Status": "Invalid"}).lists == "public"
    assert from_headers({"X-Identity-Status": "Confirmed", "X-Roles": "member"}).lists == "public"


@pytest.mark.parametrize("visibility, owner, stranger, member, anonymous", [
    ("public", True, True, True, True),
    ("community", True, True, True, True),
    ("shared", True, False, True, False),
    ("private", True, False, False, False),
])
def test_v2_visibility(visibility, owner, stranger, member, anonymous):
    shown = {"owner": "p1", "visibility": visibility, "deleted": False}
    assert from_headers(confirmed("p1")).can_see(shown) is owner
    assert from_headers(confirmed("p2")).can_see(shown) is stranger
    assert from_headers(confirmed("p3")).can_see(shown, is_member=True) is member
    assert from_headers({"X-Identity-Status": "Invalid"}).can_see(shown) is anonymous
    assert from_headers({}).can_see(shown)                              # noauth admin
    # Whatever it reads, only the owner (or an admin) changes it.
    assert not from_headers(confirmed("p3")).can_modify(shown)


def test_v1_records_without_visibility_derive_it_from_is_public():
    assert from_headers(confirmed("p2")).can_see(image(is_public=True))
    assert not from_headers(confirmed("p2")).can_see(image())
    assert from_headers(confirmed("p2")).can_see(image(), is_member=True)


def test_only_the_member_sets_its_status():
    assert from_headers(confirmed("p3")).can_set_member_status("p3")
    assert not from_headers(confirmed("p1")).can_set_member_status("p3")
    assert not from_headers({"X-Identity-Status": "Invalid"}).can_set_member_status("p3")
    assert from_headers(confirmed("p9", roles="admin")).can_set_member_status("p3")
