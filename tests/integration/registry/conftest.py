"""Fixtures: a fresh MariaDB or PostgreSQL database per test module."""
import pytest

from registry_databases import template_copy, throwaway_database

BACKENDS = [pytest.param("mariadb", marks=pytest.mark.mariadb),
            pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(request):
    """SQLAlchemy URL of a migrated database on each real server in turn."""
    yield from template_copy(request.param)


@pytest.fixture
def fresh_database_url(request, backend):
    """An empty database of its own for one test (migration tests)."""
    yield from throwaway_database(backend)


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param
