"""The attack suite runs against the functional tier's real processes: its fixtures
(glance-registry, glance-api, a real Keystone) are reused here, not copied."""
from functional.conftest import (  # noqa: F401 -- fixtures
    api, api_for, api_server, keystone_glance, keystone_server, registry_server, start_api)
