"""The S3 endpoints of the store tests (``saio`` and ``rclone`` are in tests/conftest.py)."""
import pytest

from integration.store.backends import s3_client


@pytest.fixture(scope="session")
def s3_backends(request):
    """The S3 endpoints under test, by name; each started on first use."""
    def endpoint(name):
        server = request.getfixturevalue("saio" if name == "swift-s3api" else "rclone")
        return (server, *server.s3_keys)
    return endpoint


@pytest.fixture
def s3_check():
    return s3_client
