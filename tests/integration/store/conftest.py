"""Session-wide real backends for the Swift and S3 store tests."""
import pytest

from integration.store.backends import Rclone, Saio, s3_client

saio = Saio.fixture("session")
rclone = Rclone.fixture("session")


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
