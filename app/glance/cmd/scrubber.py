"""glance-scrubber: delete the data of images pending deletion."""
import logging
import signal
import time

from glance import config
from glance.cmd.common import db_error_text, fail, fail_db, start
from glance.options import SCRUBBER

LOG = logging.getLogger("glance.scrubber")


def main(argv=None):
    parser = config.build_parser(SCRUBBER, "Delete the data of images that were deleted "
                                           "with delayed_delete, once scrub_time has passed.")
    parser.add_argument("config", nargs="?", help="configuration file (same as --config-file)")
    parser.add_argument("--dry-run", action="store_true",
                        help="Print what one scrub would do (kill, scrub, remove) and change "
                             "nothing.")
    parser.add_argument("--audit", action="store_true",
                        help="Instead of scrubbing: read the stored data of every active image "
                             "(at most scrub_audit_rate MiB/s), verify its size, MD5 and "
                             "multihash, and mark the corrupt ones (property "
                             "os_glance_corrupt, image.corrupt notification).")
    conf, args = start(SCRUBBER, argv, parser, positional="config")
    if args.audit:
        return _audit(conf)
    from glance.scrubber import Scrubber   # after logging is set up
    try:
        scrubber = Scrubber(conf, dry_run=args.dry_run,
                            report=print if args.dry_run else None)
    except config.ConfigError as exc:   # a bad sql_connection
        fail(str(exc))
    if args.dry_run or not conf.daemon:
        try:
            done, failed = scrubber.run()
        except Exception as exc:     # the database is down, say
            fail_db("Scrub failed", exc)
        LOG.info("Scrub done: %d actions%s, %d failed", done,
                 " planned" if args.dry_run else "", failed)
        return 1 if failed else 0
    stopping = []       # a flag a signal handler can set without taking a lock
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    while not stopping:
        try:
            scrubber.run()
        except Exception as exc:     # keep the daemon alive; try again next wake-up
            LOG.error("Scrub failed, retrying in %d s: %s", conf.wakeup_time, db_error_text(exc))
        deadline = time.monotonic() + conf.wakeup_time
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.2)
    return 0


def _audit(conf):
    """One audit pass; exit status 1 when an image is corrupt or could not be read."""
    from glance.audit import Auditor
    from glance.notifier import build_notifier
    from glance.registry import db
    from glance.store import build_stores
    try:
        engine = db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
        notifier = build_notifier(conf)
        auditor = Auditor(engine, build_stores(conf), notifier, conf.scrub_audit_rate)
    except config.ConfigError as exc:
        fail(str(exc))
    try:
        _checked, corrupt, failed = auditor.run()
    except Exception as exc:     # the database is down, say
        fail_db("Audit failed", exc)
    finally:
        notifier.close()
    return 1 if corrupt or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
