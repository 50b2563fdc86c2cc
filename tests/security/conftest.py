"""The attack suite runs against the functional tier's real processes: its fixtures
(glance-registry, glance-api) are reused here, not copied; Keystone's are in
tests/conftest.py."""
from functional.conftest import (  # noqa: F401 -- fixtures
    api, api_for, api_server, registry_server, start_api)
