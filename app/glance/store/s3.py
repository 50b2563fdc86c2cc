"""S3 store: one object per image in a bucket of any S3-compatible endpoint.

Locations hold no credentials: ``s3+http://host:port/<bucket>/<id>`` (``s3://``
means https, as in the seed).  Readers use their own ``s3_store_access_key``
and ``s3_store_secret_key``, and only with the configured host and bucket:
a location naming another host or bucket is a BadLocation (400 when it is
registered) and no request is sent for it.  Seed-era ``access:secret@``
locations came only from the seed's own writes: they are read and deleted
with the configured keys (the embedded ones are ignored), and registering a
new location that carries credentials is refused.

Uploads stream: a known size below ``s3_store_large_object_size`` is one
``PutObject`` fed straight from the request body, a larger one a multipart
upload whose parts are streamed the same way.  Payload signing is off so
botocore never has to read a body twice.  An upload of unknown size reads
one part into memory (a part needs a Content-Length), so memory stays
bounded by one part.  Any failure aborts the multipart upload.
"""
import functools
import logging
import threading

from glance.store.base import (
    CHUNK_SIZE, BackendError, Duplicate, HashingReader, Leftover, NotFound, StoreError)
from glance.store.common import (
    ObjectStore, http_error, range_header, require, timestamp, upload_error)
from glance.store.segment import (
    Peekable, SegmentReader, checked_stream, closing, expect_end, read_at_most)

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024
REQUIRED = ("s3_store_host", "s3_store_access_key", "s3_store_secret_key", "s3_store_bucket",
            "s3_store_region")
# S3 error codes -> the HTTP status they stand for, whatever status came with them.
CODE_STATUS = {"NoSuchKey": 404, "NoSuchBucket": 404, "404": 404, "NotFound": 404,
               "EntityTooLarge": 413, "QuotaExceeded": 413, "AccessDenied": 403}
BAD_CREDENTIALS = ("InvalidAccessKeyId", "SignatureDoesNotMatch")


class S3Store(ObjectStore):
    """Images in an S3 bucket; see the module docstring."""

    name = "s3"
    description = "Amazon S3"
    service = "S3"
    schemes = ("s3", "s3+http", "s3+https")
    kind = "bucket"
    endpoint_name = "host"

    def __init__(self, host, access_key, secret_key, bucket, *, create_bucket,
                 addressing_style, region, large_object_size, part_size, max_retries,
                 connect_timeout, read_timeout):
        super().__init__(host, bucket)
        self.access_key, self.secret_key = access_key, secret_key
        self.create_bucket = create_bucket
        self.addressing_style = addressing_style
        self.region = region
        self.large_object_size = large_object_size
        self.part_size = part_size
        self.max_retries = max_retries
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._s3 = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, conf):
        """Build from ``s3_store_*`` options without contacting the endpoint.

        :raises NotConfigured: names the missing required options.
        """
        require(conf, REQUIRED, "S3")
        return cls(conf.s3_store_host, conf.s3_store_access_key, conf.s3_store_secret_key,
                   conf.s3_store_bucket,
                   create_bucket=conf.s3_store_create_bucket_on_put,
                   addressing_style=conf.s3_store_addressing_style,
                   region=conf.s3_store_region,
                   large_object_size=int(conf.s3_store_large_object_size * MiB),
                   part_size=int(conf.s3_store_large_object_chunk_size * MiB),
                   max_retries=conf.s3_store_max_retries,
                   connect_timeout=conf.s3_store_connect_timeout,
                   read_timeout=conf.s3_store_read_timeout)

    def _client(self):
        with self._lock:
            if self._s3 is None:
                self._s3 = self._new_client()
            return self._s3

    def _new_client(self):
        import boto3  # lazy: keeps glance-api small when the store is unused
        import botocore.utils
        from botocore.config import Config
        options = dict(
            signature_version="s3v4", connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            retries={"max_attempts": self.max_retries, "mode": "standard"},
            s3={"addressing_style": self.addressing_style, "payload_signing_enabled": False})
        if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
            # botocore >= 1.36 adds CRC checksums that some S3 servers reject.
            options.update(request_checksum_calculation="when_required",
                           response_checksum_validation="when_required")
        client = boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            config=Config(**options))
        # botocore < 1.36 adds a Content-MD5 to every PutObject/UploadPart, which
        # means reading the body twice: impossible for a stream, so turn it off.
        md5_handler = getattr(botocore.utils, "conditionally_calculate_md5", None)
        if md5_handler:
            for operation in ("PutObject", "UploadPart"):
                client.meta.events.unregister(f"before-call.s3.{operation}", md5_handler)
        return client

    def _error(self, exc, what):
        """Turn a botocore exception into a StoreError whose text holds no secret."""
        if isinstance(exc, StoreError):
            return exc
        response = getattr(exc, "response", None) or {}
        code = response.get("Error", {}).get("Code", "")
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code or status:
            return http_error("S3", what, {status, CODE_STATUS.get(code)}, f"{status} {code}",
                              bad_credentials=code in BAD_CREDENTIALS)
        if type(exc).__name__ == "UnseekableStreamError":
            # botocore wanted to resend a streamed body after a connection failure.
            return BackendError(f"The connection to S3 failed while uploading {what}")
        return BackendError(f"S3 request failed ({type(exc).__name__}) for {what}")

    # -- the Store interface -------------------------------------------------

    def add(self, image_id, data, size=None, checksum=None):
        """Stream ``data`` into ``<bucket>/<image_id>``, multipart when large.

        :raises Duplicate: the key exists already.
        :raises BackendError: S3 failed; the object or multipart upload is removed.
        """
        reader = HashingReader(data, size, checksum)
        source = Peekable(reader)
        client, what = self._client(), f"{self.container}/{image_id}"
        written = False
        try:
            self._prepare(client, image_id)
            # From here on a failure removes the key too: a multipart upload may
            # have completed on the server even though its answer was lost.
            written = True
            if size is not None and size < self.large_object_size:
                self._put(client, image_id, SegmentReader(source, size, exact=True), size)
                expect_end(source)
            elif size is not None:
                self._multipart(client, image_id, source, size)
            else:
                first = read_at_most(source, self.part_size)
                if len(first) < self.part_size or not source.more():
                    self._put(client, image_id, first, len(first))
                else:
                    self._multipart(client, image_id, source, None, first)
            return reader.result(self.location(image_id))
        except Exception as exc:
            error = upload_error(self._error(exc, what), "S3", what)
            if written:
                self._remove(client, image_id)
            raise error from None

    def _prepare(self, client, image_id):
        from botocore.exceptions import ClientError
        try:
            client.head_bucket(Bucket=self.container)
        except ClientError as exc:
            if not isinstance(self._error(exc, ""), NotFound):
                raise
            if not self.create_bucket:
                raise BackendError(f"S3 bucket {self.container} does not exist and "
                                   "s3_store_create_bucket_on_put is off") from None
            client.create_bucket(Bucket=self.container)
        try:
            client.head_object(Bucket=self.container, Key=image_id)
        except ClientError as exc:
            if isinstance(self._error(exc, ""), NotFound):
                return
            raise
        raise Duplicate(f"S3 already has an object for image {image_id}")

    def _put(self, client, key, body, length):
        _send(client.put_object, body, Bucket=self.container, Key=key, ContentLength=length,
              ContentType="application/octet-stream")

    def _multipart(self, client, key, source, size, first=None):
        """Upload parts of ``part_size`` bytes; abort on any failure."""
        upload = client.create_multipart_upload(Bucket=self.container, Key=key,
                                                ContentType="application/octet-stream")
        upload_id, parts, done = upload["UploadId"], [], 0
        try:
            while True:
                if first is not None:
                    body, first = first, None
                elif size is not None:
                    if done >= size:
                        break
                    length = min(self.part_size, size - done)
                    body = SegmentReader(source, length, exact=True)
                elif source.more():
                    body = read_at_most(source, self.part_size)   # unknown size: one part in memory
                else:
                    break
                length = len(body) if isinstance(body, bytes) else body.limit
                answer = _send(client.upload_part, body, Bucket=self.container, Key=key,
                               UploadId=upload_id, PartNumber=len(parts) + 1,
                               ContentLength=length)
                parts.append({"PartNumber": len(parts) + 1, "ETag": answer["ETag"]})
                done += length
            if size is not None:
                expect_end(source)
            source.verify()           # size and checksum, before the object becomes visible
            client.complete_multipart_upload(Bucket=self.container, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                client.abort_multipart_upload(Bucket=self.container, Key=key, UploadId=upload_id)
            except Exception as exc:
                if not isinstance(self._error(exc, key), NotFound):
                    LOG.error("Could not abort the multipart upload of %s/%s: %s",
                              self.container, key, self._error(exc, key))
            raise

    def _remove(self, client, key):
        try:
            client.delete_object(Bucket=self.container, Key=key)
        except Exception as exc:
            LOG.error("Could not remove %s/%s after a failed upload: %s",
                      self.container, key, self._error(exc, key))

    def get(self, uri, offset=0, length=None):
        """Stream the object; the iterator raises BackendError if it ends short.

        :raises NotFound: no such object.
        """
        loc = self._scoped(uri)
        args = {"Bucket": loc.container, "Key": loc.name, **range_header(offset, length)}
        try:
            answer = self._client().get_object(**args)
        except Exception as exc:
            raise self._error(exc, str(loc)) from None
        size = answer["ContentLength"]
        chunks = answer["Body"].iter_chunks(CHUNK_SIZE)
        return checked_stream(closing(chunks, answer["Body"]), size, f"S3 object {loc}",
                              lambda exc: self._error(exc, str(loc))), size

    def get_size(self, uri):
        """:raises NotFound: no such object."""
        loc = self._scoped(uri)
        try:
            return self._client().head_object(Bucket=loc.container, Key=loc.name)["ContentLength"]
        except Exception as exc:
            raise self._error(exc, str(loc)) from None

    def delete(self, uri):
        """Remove the object.

        :raises NotFound: no such object (S3 itself answers deletes of missing keys).
        """
        loc = self._scoped(uri)
        client = self._client()
        try:
            client.head_object(Bucket=loc.container, Key=loc.name)
            client.delete_object(Bucket=loc.container, Key=loc.name)
        except Exception as exc:
            raise self._error(exc, str(loc)) from None

    def _objects(self):
        """``(key, last changed)`` of every object in the bucket; none if it is missing."""
        from botocore.exceptions import ClientError
        try:
            pages = self._client().get_paginator("list_objects_v2").paginate(
                Bucket=self.container)
            return [(item["Key"], timestamp(item["LastModified"]))
                    for page in pages for item in page.get("Contents", [])]
        except ClientError as exc:
            if isinstance(self._error(exc, ""), NotFound):
                return []
            raise self._error(exc, self.container) from None

    def _delete_object(self, key):
        """Remove one object (S3 answers a delete of a missing key with success)."""
        try:
            self._client().delete_object(Bucket=self.container, Key=key)
        except Exception as exc:
            raise self._error(exc, key) from None

    def _partial_uploads(self, cutoff):
        """Incomplete multipart uploads begun before ``cutoff``: an interrupted upload's."""
        from botocore.exceptions import ClientError
        client = self._client()
        try:
            uploads = [upload for page in
                       client.get_paginator("list_multipart_uploads").paginate(
                           Bucket=self.container)
                       for upload in page.get("Uploads", [])]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("NoSuchUpload", "NoSuchBucket"):
                # Some S3 servers cannot list them: the objects are still reported.
                LOG.warning("Cannot list the incomplete multipart uploads of S3 bucket %s: %s",
                            self.container, self._error(exc, self.container))
            return      # NoSuchUpload: rclone's answer for a bucket that never had one
        for upload in uploads:
            if timestamp(upload["Initiated"]) < cutoff:
                key, upload_id = upload["Key"], upload["UploadId"]
                yield Leftover(key, f"S3 multipart upload {upload_id} of {self.container}/{key}",
                               True, functools.partial(self._abort, key, upload_id))

    def _abort(self, key, upload_id):
        """Abort a multipart upload; already gone is no error."""
        try:
            self._client().abort_multipart_upload(Bucket=self.container, Key=key,
                                                  UploadId=upload_id)
        except Exception as exc:
            if not isinstance(self._error(exc, key), NotFound):
                raise self._error(exc, key) from None


def _send(call, body, **args):
    """``call(Body=body, **args)``, re-raising what reading the body raised.

    botocore wraps errors from the body in its own (and may retry): the
    client's SizeMismatch or ClientDisconnected must reach the API as is.
    """
    try:
        return call(Body=body, **args)
    except Exception:
        if getattr(body, "error", None) is not None:
            raise body.error from None
        raise
