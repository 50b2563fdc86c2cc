"""What a crashed upload leaves in a store, for glance-scrubber to find.

An upload whose glance-api died mid-way leaves, depending on the store, a
hidden ``.<id>.<thread>.part`` file, a Swift object ``<id>`` and segments
``<id>-00001``…, or an S3 multipart upload of key ``<id>``.  Each store here
lists what it holds that is older than a cutoff, as :class:`Leftover` items
named by image id; the scrubber decides from the image's status what may go.

``partial`` items (``.part`` files, incomplete multipart uploads) are never
an image's data; the others (whole files and objects) may be, so the
scrubber removes those only for images that are killed or deleted.
"""
import datetime
import logging
import os
import re
from dataclasses import dataclass
from typing import Callable

LOG = logging.getLogger(__name__)
PART_FILE = re.compile(r"^\.(?P<id>.+)\.\d+\.part$")
SEGMENT = re.compile(r"^(?P<id>.+?)(-\d{5})?$")


@dataclass(frozen=True)
class Leftover:
    """One thing in a store: whose it is, what it is, how to remove it."""
    image_id: str
    what: str
    partial: bool
    remove: Callable[[], None]


def find(store, cutoff):
    """Leftovers in ``store`` last changed before ``cutoff`` (a POSIX timestamp).

    Stores without leftovers to look for (HTTP, read-only) give none.
    """
    finder = FINDERS.get(getattr(store, "name", None))
    return list(finder(store, cutoff)) if finder else []


def _file(store, cutoff):
    for entry in os.scandir(store.datadir):
        if not entry.is_file(follow_symlinks=False):
            continue
        if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
            continue
        match = PART_FILE.match(entry.name)
        image_id = match.group("id") if match else entry.name
        if not match and entry.name.startswith("."):
            continue
        yield Leftover(image_id, f"file {entry.path}", bool(match),
                       lambda path=entry.path: _unlink(path))


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _timestamp(value):
    """Swift's ``last_modified`` (naive UTC ISO) or S3's datetime, as a POSIX timestamp."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.timestamp()


def _swift(store, cutoff):
    conn = store._connect()
    try:
        objects = conn.get_container(store.container, full_listing=True)[1]
    except Exception as exc:
        if getattr(exc, "http_status", None) == 404:
            return
        raise store._error(exc, store.container) from None
    for item in objects:
        if _timestamp(item["last_modified"]) >= cutoff:
            continue
        name = item["name"]
        yield Leftover(SEGMENT.match(name).group("id"), f"Swift object {store.container}/{name}",
                       False, lambda name=name: _swift_delete(store, conn, name))


def _swift_delete(store, conn, name):
    try:
        conn.delete_object(store.container, name)
    except Exception as exc:
        if getattr(exc, "http_status", None) != 404:
            raise store._error(exc, name) from None


def _s3(store, cutoff):
    from botocore.exceptions import ClientError
    client, bucket = store._client(), store.bucket
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if _timestamp(item["LastModified"]) < cutoff:
                    key = item["Key"]
                    yield Leftover(key, f"S3 object {bucket}/{key}", False,
                                   lambda key=key: client.delete_object(Bucket=bucket, Key=key))
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return
        raise store._error(exc, bucket) from None
    try:
        uploads = [upload for page in
                   client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket)
                   for upload in page.get("Uploads", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchUpload":
            return      # rclone's answer for a bucket that never had one
        LOG.warning("Cannot list the incomplete multipart uploads of S3 bucket %s: %s",
                    bucket, store._error(exc, bucket))
        return
    for upload in uploads:
        if _timestamp(upload["Initiated"]) < cutoff:
            key, upload_id = upload["Key"], upload["UploadId"]
            yield Leftover(key, f"S3 multipart upload {upload_id} of {bucket}/{key}", True,
                           lambda key=key, upload_id=upload_id: client.abort_multipart_upload(
                               Bucket=bucket, Key=key, UploadId=upload_id))


FINDERS = {"file": _file, "swift": _swift, "s3": _s3}
