"""Logging set-up shared by every command."""
import logging
import logging.config
import logging.handlers
import os
import sys

from glance.config import ConfigError

LOG = logging.getLogger(__name__)


def level_of(conf):
    if conf.get("log_level"):
        return getattr(logging, conf.log_level)
    if conf.get("debug"):
        return logging.DEBUG
    if conf.get("verbose"):
        return logging.INFO
    return logging.WARNING


def log_path(conf):
    """The file to log to, or None for stderr or syslog."""
    if conf.log_file:
        return os.path.join(conf.log_dir, conf.log_file) if conf.log_dir else conf.log_file
    if conf.log_dir:
        return os.path.join(conf.log_dir, conf.program + ".log")
    return None


def setup_logging(conf):
    """Configure the root logger from ``conf``.

    :raises ConfigError: the logging config or log file cannot be used.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    if conf.log_config:
        if not os.path.isfile(conf.log_config):
            raise ConfigError(f"Unable to locate specified logging config file: {conf.log_config}")
        try:
            logging.config.fileConfig(conf.log_config, disable_existing_loggers=False)
        except Exception as exc:  # fileConfig raises anything from KeyError to ValueError
            raise ConfigError(f"Cannot use logging config file {conf.log_config}: {exc!r}") from None
        return
    path = log_path(conf)
    if path:
        try:
            # WatchedFileHandler reopens the file after logrotate moves it.
            handler = logging.handlers.WatchedFileHandler(path)
        except OSError as exc:
            raise ConfigError(f"Cannot open log file {path}: {exc.strerror}") from None
    elif conf.use_syslog:
        address = "/dev/log" if os.path.exists("/dev/log") else ("localhost", 514)
        handler = logging.handlers.SysLogHandler(address=address)
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(conf.log_format, conf.log_date_format))
    root.addHandler(handler)
    root.setLevel(level_of(conf))


def log_options(conf, logger=LOG):
    """Log the effective options once, with secrets masked (done under --debug)."""
    logger.debug("Configuration file: %s", conf.path)
    for name, value in sorted(conf.masked().items()):
        logger.debug("  %s = %r", name, value)
