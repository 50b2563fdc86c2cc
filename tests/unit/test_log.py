"""Logging set-up: levels, files, logrotate, logging config files."""
import logging
import os

import pytest

from glance import config
from glance.log import log_options, setup_logging


@pytest.fixture(autouse=True)
def restore_root_logger():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.handlers[:], root.level = saved[0], saved[1]


def conf(**values):
    return config.load_config("glance-registry", None, values)


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


@pytest.mark.parametrize("values, level", [
    ({}, logging.WARNING),
    ({"verbose": "true"}, logging.INFO),
    ({"debug": "true"}, logging.DEBUG),
    ({"debug": "true", "log_level": "error"}, logging.ERROR),
])
def test_levels(values, level):
    setup_logging(conf(**values))
    assert logging.getLogger().level == level


def test_log_file_with_format_and_date_format(tmp_path):
    path = tmp_path / "r.log"
    setup_logging(conf(log_file=str(path), verbose="true", log_format="%(levelname)s|%(asctime)s|%(message)s",
                       log_date_format="%Y"))
    logging.getLogger("glance.test").info("hello")
    line = read(path).strip()
    level, stamp, message = line.split("|")
    assert (level, message) == ("INFO", "hello") and len(stamp) == 4


def test_log_dir_joins_relative_file(tmp_path):
    setup_logging(conf(log_dir=str(tmp_path), log_file="x.log"))
    logging.getLogger("glance.test").warning("in dir")
    assert "in dir" in read(tmp_path / "x.log")


def test_log_dir_alone_uses_program_name(tmp_path):
    setup_logging(conf(log_dir=str(tmp_path)))
    logging.getLogger("glance.test").warning("named")
    assert "named" in read(tmp_path / "glance-registry.log")


def test_log_file_survives_logrotate(tmp_path):
    path = tmp_path / "r.log"
    setup_logging(conf(log_file=str(path)))
    log = logging.getLogger("glance.test")
    log.warning("before rotate")
    os.rename(path, tmp_path / "r.log.1")
    log.warning("after rotate")
    assert "before rotate" in read(tmp_path / "r.log.1")
    assert "after rotate" in read(path) and "before rotate" not in read(path)


def test_missing_log_config_is_a_clear_error(tmp_path):
    with pytest.raises(config.ConfigError, match="Unable to locate specified logging config file"):
        setup_logging(conf(log_config=str(tmp_path / "nope.ini")))


def test_log_config_overrides_the_rest(tmp_path):
    out = tmp_path / "from-ini.log"
    ini = tmp_path / "logging.ini"
    ini.write_text(
        "[loggers]\nkeys=root\n[handlers]\nkeys=f\n[formatters]\nkeys=p\n"
        "[logger_root]\nlevel=DEBUG\nhandlers=f\n"
        f"[handler_f]\nclass=FileHandler\nformatter=p\nargs=({str(out)!r},)\n"
        "[formatter_p]\nformat=INI %(message)s\n")
    ignored = tmp_path / "ignored.log"
    setup_logging(conf(log_config=str(ini), log_file=str(ignored)))
    logging.getLogger("glance.test").debug("configured")
    assert "INI configured" in read(out)
    assert not ignored.exists()


def test_unopenable_log_file_is_a_config_error(tmp_path):
    with pytest.raises(config.ConfigError, match="Cannot open log file"):
        setup_logging(conf(log_file=str(tmp_path / "no" / "such" / "dir.log")))


def test_debug_options_are_masked(tmp_path):
    path = tmp_path / "r.log"
    settings = conf(log_file=str(path), debug="true",
                    sql_connection="mysql+pymysql://glance:pa55word@db/glance")
    setup_logging(settings)
    log_options(settings)
    text = read(path)
    assert "sql_connection" in text and "pa55word" not in text and "glance:***@db" in text
