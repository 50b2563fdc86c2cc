"""glance-scrubber: delete the data of images pending deletion."""
import logging
import signal
import threading

from glance import config
from glance.cmd.common import fail, start
from glance.options import SCRUBBER

LOG = logging.getLogger("glance.scrubber")


def main(argv=None):
    parser = config.build_parser(SCRUBBER, "Delete the data of images that were deleted "
                                           "with delayed_delete, once scrub_time has passed.")
    parser.add_argument("config", nargs="?", help="configuration file (same as --config-file)")
    conf, _ = start(SCRUBBER, argv, parser, positional="config")
    from glance.scrubber import Scrubber   # after logging is set up
    try:
        scrubber = Scrubber(conf)
    except config.ConfigError as exc:   # a bad sql_connection
        fail(str(exc))
    if not conf.daemon:
        scrubbed, failed = scrubber.scrub()
        LOG.info("Scrubbed %d images, %d failed", scrubbed, failed)
        return 1 if failed else 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        scrubber.scrub()
        stop.wait(conf.wakeup_time)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
