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
import logging
import threading

from glance.store.base import (
    CHUNK_SIZE, BackendError, Duplicate, HashingReader, NotFound, StoreError)
from glance.store.common import (
    ScopedLocations, check_scope, http_error, parse_location, range_header, require,
    upload_error)
from glance.store.segment import (
    Peekable, SegmentReader, checked_stream, closing, expect_end, read_at_most)

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024
REQUIRED = ("s3_store_host", "s3_store_access_key", "s3_store_secret_key", "s3_store_bucket")
# S3 error codes -> the HTTP status they stand for, whatever status came with them.
CODE_STATUS = {"NoSuchKey": 404, "NoSuchBucket": 404, "404": 404, "NotFound": 404,
               "EntityTooLarge": 413, "QuotaExceeded": 413, "AccessDenied": 403}
BAD_CREDENTIALS = ("InvalidAccessKeyId", "SignatureDoesNotMatch")


class S3Location:
    """A parsed location: endpoint, bucket, key; ``credentials`` of a seed-era one."""

    def __init__(self, uri):
        self.credentials, self.endpoint, self.bucket, self.key = parse_location(
            uri, S3Store.schemes, "Not an S3 location",
            "S3 location must be s3+http(s)://host/bucket/key")

    @property
    def name(self):
        return self.key

    def __str__(self):
        return f"{self.bucket}/{self.key}"


class S3Store(ScopedLocations):
    """Images in an S3 bucket; see the module docstring."""

    name = "s3"
    service = "S3"
    schemes = ("s3", "s3+http", "s3+https")
    read_only = False

    def __init__(self, host, access_key, secret_key, bucket, create_bucket=False,
                 addressing_style="path", region="us-east-1",
                 large_object_size=100 * MiB, part_size=10 * MiB, retries=6):
        self.endpoint = (host if "://" in host else "https://" + host).rstrip("/")
        self.access_key, self.secret_key = access_key, secret_key
        self.bucket = bucket
        self.create_bucket = create_bucket
        self.addressing_style = addressing_style
        self.region = region
        self.large_object_size = large_object_size
        self.part_size = part_size
        self.retries = retries
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
                   create_bucket=conf.get("s3_store_create_bucket_on_put", False),
                   addressing_style=conf.get("s3_store_addressing_style", "path"),
                   region=conf.get("s3_store_region") or "us-east-1",
                   large_object_size=int(conf.get("s3_store_large_object_size", 100) * MiB),
                   part_size=int(conf.get("s3_store_large_object_chunk_size", 10) * MiB))

    def location(self, image_id):
        scheme, _, hostpath = self.endpoint.partition("://")
        return f"s3+{scheme}://{hostpath}/{self.bucket}/{image_id}"

    def _scoped(self, uri):
        """:raises BadLocation: ``uri`` is not in the configured host and bucket."""
        loc = S3Location(uri)
        check_scope("S3", loc.endpoint, loc.bucket, self.endpoint, self.bucket, "bucket")
        return loc

    def _client(self):
        with self._lock:
            if self._s3 is None:
                self._s3 = self._new_client(self.endpoint, self.access_key,
                                                     self.secret_key)
            return self._s3

    def _new_client(self, endpoint, access, secret):
        import boto3  # lazy: keeps glance-api small when the store is unused
        import botocore.utils
        from botocore.config import Config
        options = dict(
            signature_version="s3v4", connect_timeout=10, read_timeout=60,
            retries={"max_attempts": self.retries, "mode": "standard"},
            s3={"addressing_style": self.addressing_style, "payload_signing_enabled": False})
        if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
            # botocore >= 1.36 adds CRC checksums that some S3 servers reject.
            options.update(request_checksum_calculation="when_required",
                           response_checksum_validation="when_required")
        client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=self.region, aws_access_key_id=access,
            aws_secret_access_key=secret, config=Config(**options))
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
        client, what = self._client(), f"{self.bucket}/{image_id}"
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
            client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not isinstance(self._error(exc, ""), NotFound):
                raise
            if not self.create_bucket:
                raise BackendError(f"S3 bucket {self.bucket} does not exist and "
                                   "s3_store_create_bucket_on_put is off") from None
            client.create_bucket(Bucket=self.bucket)
        try:
            client.head_object(Bucket=self.bucket, Key=image_id)
        except ClientError as exc:
            if isinstance(self._error(exc, ""), NotFound):
                return
            raise
        raise Duplicate(f"S3 already has an object for image {image_id}")

    def _put(self, client, key, body, length):
        _send(client.put_object, body, Bucket=self.bucket, Key=key, ContentLength=length,
              ContentType="application/octet-stream")

    def _multipart(self, client, key, source, size, first=None):
        """Upload parts of ``part_size`` bytes; abort on any failure."""
        upload = client.create_multipart_upload(Bucket=self.bucket, Key=key,
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
                answer = _send(client.upload_part, body, Bucket=self.bucket, Key=key,
                               UploadId=upload_id, PartNumber=len(parts) + 1,
                               ContentLength=length)
                parts.append({"PartNumber": len(parts) + 1, "ETag": answer["ETag"]})
                done += length
            if size is not None:
                expect_end(source)
            source.verify()           # size and checksum, before the object becomes visible
            client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                             MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except Exception as exc:
                if not isinstance(self._error(exc, key), NotFound):
                    LOG.error("Could not abort the multipart upload of %s/%s: %s",
                              self.bucket, key, self._error(exc, key))
            raise

    def _remove(self, client, key):
        try:
            client.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            LOG.error("Could not remove %s/%s after a failed upload: %s",
                      self.bucket, key, self._error(exc, key))

    def get(self, uri, offset=0, length=None):
        """Stream the object; the iterator raises BackendError if it ends short.

        :raises NotFound: no such object.
        """
        loc = self._scoped(uri)
        args = {"Bucket": loc.bucket, "Key": loc.key, **range_header(offset, length)}
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
            return self._client().head_object(Bucket=loc.bucket, Key=loc.key)["ContentLength"]
        except Exception as exc:
            raise self._error(exc, str(loc)) from None

    def delete(self, uri):
        """Remove the object.

        :raises NotFound: no such object (S3 itself answers deletes of missing keys).
        """
        loc = self._scoped(uri)
        client = self._client()
        try:
            client.head_object(Bucket=loc.bucket, Key=loc.key)
            client.delete_object(Bucket=loc.bucket, Key=loc.key)
        except Exception as exc:
            raise self._error(exc, str(loc)) from None


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
