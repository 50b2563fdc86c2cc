"""What every command does before it starts: config, logging, errors as one line."""
import logging
import sys

from glance import config
from glance.log import log_options, setup_logging


def fail(message, status=1):
    print(f"ERROR: {message}", file=sys.stderr)
    sys.exit(status)


def start(program, argv, parser, positional=None):
    """Parse the command line, load the config, set up logging.

    Any configuration problem ends the program with one line on stderr and
    exit status 1, never a traceback.

    :returns: ``(conf, args)``
    """
    try:
        conf, args = config.parse_args(program, sys.argv[1:] if argv is None else argv,
                                       parser, positional)
        setup_logging(conf)
    except config.ConfigError as exc:
        fail(str(exc))
    if conf.debug:
        log_options(conf, logging.getLogger(program))
    return conf, args
