"""``glance-scrubber --audit``: re-read stored image data and mark what rotted.

Downloads verify the fast checksum as they stream, so corrupt data is never
served whole; but an image nobody downloads can rot unseen, and a download of
a corrupt image fails only after most of it was sent.  The audit reads the
data of every active image that a store holds for it (``StoreMap.owns``;
registered external locations are not read), at most ``scrub_audit_rate`` MiB
per second so it does not starve the API nodes, and verifies its size, MD5 and
multihash against the registry.

A mismatch marks the image: the property ``os_glance_corrupt`` says when and
what did not match (the ``os_glance`` prefix is refused to v2 clients).  Its
next download fails at once with that reason (``rules.corrupt_mark``), the
scrubber logs it, and an ``image.corrupt`` notification goes out.  An
operator clears the mark (after restoring the data) by deleting the property.
"""
import logging
import time

import sqlalchemy as sa

from glance.registry.models import Image, ImageProperty, utcnow
from glance.rules import ACTIVE, CORRUPT_MARK as MARK
from glance.store.base import CHUNK_SIZE, StoreError
from glance.store.hashing import available, new_hash

LOG = logging.getLogger("glance.scrubber")
MiB = 1024 * 1024


class Auditor:
    """One audit pass over the registry database and the configured stores.

    :param rate: MiB per second read at most (0: no limit).
    :param notifier: a :class:`glance.notifier.Notifier` for ``image.corrupt``.
    :param sleep: ``time.sleep``; :param clock: ``time.monotonic`` (tests pass their own).
    """

    def __init__(self, engine, stores, notifier, rate, sleep=time.sleep, clock=time.monotonic):
        self.engine = engine
        self.stores = stores
        self.notifier = notifier
        self.rate = rate * MiB if rate and rate > 0 else None
        self.sleep, self.clock = sleep, clock
        self.read = 0
        self.began = None

    def candidates(self):
        """Active, undeleted images with data and an MD5, not marked yet."""
        marked = (sa.select(ImageProperty.image_id)
                  .where(ImageProperty.name == MARK, ImageProperty.deleted == sa.false()))
        query = (sa.select(Image.id, Image.location, Image.size, Image.checksum,
                           Image.os_hash_algo, Image.os_hash_value, Image.owner)
                 .where(Image.status == ACTIVE, Image.deleted == sa.false(),
                        Image.location.is_not(None), Image.checksum.is_not(None),
                        Image.id.not_in(marked))
                 .order_by(Image.id))
        with self.engine.connect() as conn:
            return [row._mapping for row in conn.execute(query)]

    def run(self):
        """Audit every candidate: ``(checked, corrupt, failed)`` counts."""
        checked = corrupt = failed = 0
        self.began = self.clock()
        for image in self.candidates():
            if not self.stores.owns(image["location"], image["id"]):
                continue
            try:
                wrong = self.check(image)
            except StoreError as exc:
                LOG.error("Audit could not read image %s: %s", image["id"], exc)
                failed += 1
                continue
            checked += 1
            if wrong:
                corrupt += 1
                self.mark(image, wrong)
        LOG.info("Audit done: %d images checked, %d corrupt, %d unreadable",
                 checked, corrupt, failed)
        return checked, corrupt, failed

    def check(self, image):
        """What does not match in ``image``'s data: a list of names (empty: all right)."""
        hashes = {"MD5": (new_hash("md5"), image["checksum"].lower())}
        algorithm, value = image["os_hash_algo"], image["os_hash_value"]
        if algorithm and value and available(algorithm):
            hashes[algorithm] = (new_hash(algorithm), value.lower())
        location = image["location"]
        chunks, _ = self.stores.for_uri(location).get(location)
        size = 0
        try:
            for chunk in chunks:
                for hasher, _ in hashes.values():
                    hasher.update(chunk)
                size += len(chunk)
                self._throttle(len(chunk))
        except StoreError as exc:
            if "ended early" not in str(exc):
                raise
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        wrong = [name for name, (hasher, expected) in hashes.items()
                 if hasher.hexdigest() != expected]
        if image["size"] is not None and size != image["size"]:
            wrong.insert(0, f"size ({size} bytes, recorded {image['size']})")
        return wrong

    def _throttle(self, count):
        self.read += count
        if self.rate is None:
            return
        ahead = self.read / self.rate - (self.clock() - self.began)
        if ahead > 0:
            self.sleep(ahead)

    def mark(self, image, wrong):
        """Set the mark (a property, undeleting an old one), log and notify."""
        now = utcnow()
        reason = (f"found by glance-scrubber --audit at {now:%Y-%m-%d %H:%M:%S} UTC; "
                  f"mismatched: {', '.join(wrong)}")
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(ImageProperty).where(
                ImageProperty.image_id == image["id"], ImageProperty.name == MARK)
                .values(value=reason, deleted=False, deleted_at=None, updated_at=now))
            if not done.rowcount:
                conn.execute(sa.insert(ImageProperty).values(
                    image_id=image["id"], name=MARK, value=reason, created_at=now,
                    updated_at=now, deleted=False))
            conn.execute(sa.update(Image).where(Image.id == image["id"])
                         .values(updated_at=now))
        LOG.error("Image %s is corrupt in its store: %s", image["id"], reason)
        self.notifier.error("image.corrupt", {"image_id": image["id"],
                                              "owner": image["owner"], "reason": reason,
                                              "timestamp": now.isoformat()})

