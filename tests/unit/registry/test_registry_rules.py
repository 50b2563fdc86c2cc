"""Request context, page-size options and validation details, in process."""
import pytest

from contract.registry_support import InProcessRegistry, migrated_engine
from glance import config, context, errors, rules
from glance.registry import create_app

CONF = config.load_config("glance-registry", None, {"sql_connection": "sqlite://"})


def test_no_token_is_noauth_admin():
    ctx = context.from_headers({})
    assert ctx.is_admin and ctx.owner is None


@pytest.mark.parametrize("roles, admin", [("Member", False), ("admin", True),
                                          ("member, Admin", True), ("", False)])
def test_roles_make_admin(roles, admin):
    ctx = context.from_headers({"X-Auth-Token": "t", "X-Identity-Status": "Confirmed",
                                "X-User": "u", "X-Tenant": "t1", "X-Role": roles})
    assert ctx.is_admin is admin and ctx.owner == "t1"


def test_owner_is_user_when_owner_is_tenant_is_off():
    headers = {"X-Auth-Token": "t", "X-User": "u", "X-Tenant": "t1"}
    assert context.from_headers(headers, owner_is_tenant=False).owner == "u"


def test_page_size_options():
    conf = config.load_config("glance-registry", None,
                              {"limit_param_default": "2", "api_limit_max": "3",
                               "sql_connection": "sqlite://"})
    engine = migrated_engine()
    registry = InProcessRegistry(create_app(conf, engine=engine), engine)
    for n in range(5):
        registry.create({"name": f"n{n}", "is_public": True})
    assert len(registry.list()) == 2
    assert len(registry.list(params={"limit": 10})) == 3
    assert len(registry.list(detail=True, params={"limit": 1000})) == 3
    engine.dispose()


def test_owner_is_tenant_option_reaches_the_registry():
    conf = config.load_config("glance-registry", None,
                              {"owner_is_tenant": "false", "sql_connection": "sqlite://"})
    engine = migrated_engine()
    registry = InProcessRegistry(create_app(conf, engine=engine), engine)
    made = registry.create({"name": "x"}, headers={"X-Auth-Token": "t", "X-User": "alice",
                                                   "X-Tenant": "acme"})
    assert made["owner"] == "alice"
    engine.dispose()


@pytest.mark.parametrize("value, expected", [("true", True), ("0", False), (1, True)])
def test_booleans_accept_text(value, expected):
    assert rules.clean_values({"is_public": value}, CONF)["is_public"] is expected


def test_sizes_are_bounded_by_bigint():
    assert rules.clean_values({"size": str(2 ** 63 - 1)}, CONF)["size"] == 2 ** 63 - 1
    with pytest.raises(errors.BadRequest):
        rules.clean_values({"size": 2 ** 63}, CONF)


def test_property_values_become_text():
    assert rules.clean_properties({"a": 1, "b": True, "c": None}, CONF) == \
        {"a": "1", "b": "true", "c": None}
