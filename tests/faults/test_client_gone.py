"""The client dies mid-upload (connection reset) and mid-download."""
import os
import socket
import struct

import pytest

from faults.deployment import MiB, RawUpload, md5, new_id
from servers import wait_for

STORES = [pytest.param("file"),
          pytest.param("swift", marks=pytest.mark.swift),
          pytest.param("s3", marks=pytest.mark.s3)]


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
@pytest.mark.parametrize("store", STORES)
def test_client_dies_mid_upload(deploy, store, chunked):
    glance = deploy(store)
    image_id, data = new_id(), os.urandom(8 * MiB)
    upload = RawUpload(glance.api.port, image_id, data, chunked=chunked)
    upload.send(6 * MiB)
    assert glance.wait_status(image_id, "saving") == "saving"
    upload.close()
    assert glance.wait_status(image_id, "killed") == "killed"
    # The store removed what it wrote; one scrubber run finds nothing more to do.
    assert wait_for(lambda: glance.orphans() == [], timeout=20), glance.orphans()
    glance.scrub_once()
    assert glance.status(image_id) == "killed"
    assert glance.download(image_id)[0] == 404
    glance.round_trip()


def abort_downloads(glance, image_id, count):
    """``count`` clients each read 2 MiB of the image, then reset the connection."""
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", glance.api.port), timeout=30)
        sock.sendall(f"GET /v1/images/{image_id} HTTP/1.1\r\nHost: faults\r\n\r\n".encode())
        got = 0
        while got < 2 * MiB:
            got += len(sock.recv(65536))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


@pytest.mark.parametrize("store", STORES)
def test_client_dies_mid_download(deploy, store):
    glance = deploy(store, api_options={"workers": 1})     # one process's descriptors
    data = os.urandom(24 * MiB)
    created = glance.upload(data, name="read-by-a-dying-client")
    assert created.status_code == 201, created.text
    image_id = created.json()["image"]["id"]
    assert glance.download(image_id) == (200, md5(data))
    # Counted once the worker has served an upload and a download: it opens some
    # descriptors (its pollers) only after it started answering.
    idle = glance.fds_besides_the_registry()

    abort_downloads(glance, image_id, 12)
    # glance-api lets go of the store's file or connection of each aborted download;
    # what may stay besides registry connections is an object-store connection or
    # two that a client library keeps alive for reuse.
    limit = idle + 2
    assert wait_for(lambda: glance.fds_besides_the_registry() <= limit, timeout=30), \
        "\n".join(glance.connections() + glance.fd_targets())
    abort_downloads(glance, image_id, 12)       # more aborted downloads hold nothing more
    assert wait_for(lambda: glance.fds_besides_the_registry() <= limit, timeout=30), \
        "\n".join(glance.connections() + glance.fd_targets())
    if store == "file":
        assert wait_for(lambda: not [fd for fd in glance.fd_targets() if image_id in fd],
                        timeout=30), "the image file stays open after the client left"
    assert glance.status(image_id) == "active"
    assert glance.download(image_id) == (200, md5(data))
    glance.scrub_once()
    glance.round_trip()


def test_client_dies_mid_upload_to_a_queued_image(deploy):
    """PUT to a reserved image: the image is killed, not left saving or half-written."""
    glance = deploy("file")
    reserved = glance.upload(None, name="reserved")
    assert reserved.status_code == 201
    image_id = reserved.json()["image"]["id"]
    sock = socket.create_connection(("127.0.0.1", glance.api.port), timeout=30)
    sock.sendall((f"PUT /v1/images/{image_id} HTTP/1.1\r\nHost: faults\r\n"
                  f"Content-Length: {4 * MiB}\r\nContent-Type: application/octet-stream\r\n\r\n"
                  ).encode() + os.urandom(MiB))
    assert glance.wait_status(image_id, "saving") == "saving"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    assert glance.wait_status(image_id, "killed") == "killed"
    glance.scrub_once()
    glance.round_trip()

