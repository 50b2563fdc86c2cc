"""Session-wide real backends for the Swift and S3 store tests."""
import pytest

from integration.store.backends import s3_client, start_rclone, start_saio


@pytest.fixture(scope="session")
def saio(tmp_path_factory):
    server = start_saio(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rclone(tmp_path_factory):
    server = start_rclone(tmp_path_factory)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_backends(request):
    """The S3 endpoints under test, by name; each started on first use."""
    def endpoint(name):
        if name == "swift-s3api":
            server = request.getfixturevalue("saio")
            return server, server.user, server.key
        server = request.getfixturevalue("rclone")
        return server, server.access, server.secret
    return endpoint


@pytest.fixture
def s3_check():
    return s3_client
