"""The option table, the config search path and value checking."""
import os

import pytest

from glance import config, options

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary HOME and working directory, so the search path is ours."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return home


DIRS = (".", "~/.glance", "~")


def test_explicit_file_wins(home, tmp_path):
    explicit = tmp_path / "mine.conf"
    explicit.write_text("[DEFAULT]\n")
    (home / "glance-api.conf").write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-api", explicit=str(explicit), dirs=DIRS) == str(explicit)


def test_explicit_file_must_exist(home):
    with pytest.raises(config.ConfigError, match="does not exist"):
        config.find_config_file("glance-api", explicit="/nonexistent.conf", dirs=DIRS)


def test_positional_file_used_when_it_exists(home, tmp_path):
    positional = tmp_path / "pos.conf"
    positional.write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-api", positional=str(positional), dirs=DIRS) \
        == str(positional)


def test_positional_that_is_not_a_file_is_ignored(home):
    (home / "glance-api.conf").write_text("[DEFAULT]\n")
    found = config.find_config_file("glance-api", positional="start", dirs=DIRS)
    assert found == str(home / "glance-api.conf")


@pytest.mark.parametrize("where", [".", ".glance", ""])
def test_each_search_directory(home, where):
    folder = (home / where) if where != "." else config.os.path.abspath(".")
    folder = config.os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "glance-registry.conf")
    with open(path, "w") as handle:
        handle.write("[DEFAULT]\n")
    assert config.find_config_file("glance-registry", dirs=DIRS) == path


def test_cwd_comes_before_home(home):
    with open("glance-api.conf", "w") as handle:
        handle.write("[DEFAULT]\n")
    (home / "glance-api.conf").write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-api", dirs=DIRS) == os.path.abspath("glance-api.conf")


def test_program_file_comes_before_glance_conf(home):
    with open("glance.conf", "w") as handle:
        handle.write("[DEFAULT]\n")
    (home / "glance-api.conf").write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-api", dirs=DIRS) == str(home / "glance-api.conf")


def test_glance_conf_is_the_fallback(home):
    (home / ".glance").mkdir()
    (home / ".glance" / "glance.conf").write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-api", dirs=DIRS) == str(home / ".glance" / "glance.conf")


def test_manage_reads_the_registry_file(home):
    (home / "glance.conf").write_text("[DEFAULT]\n")
    (home / "glance-registry.conf").write_text("[DEFAULT]\n")
    assert config.find_config_file("glance-manage", dirs=DIRS) == str(home / "glance-registry.conf")


def test_nothing_found_names_the_program(home):
    with pytest.raises(config.ConfigNotFound) as err:
        config.find_config_file("glance-registry", dirs=DIRS)
    assert str(err.value) == ("Unable to locate any configuration file. "
                              "Cannot load application glance-registry")


def test_seed_era_glance_conf_loads(tmp_path):
    path = tmp_path / "glance.conf"
    path.write_text(
        "[DEFAULT]\nverbose = True\ndebug = False\n\n"
        "[app:glance-api]\npaste.app_factory = glance.server:app_factory\n"
        "bind_host = 127.0.0.1\nbind_port = 9393\ndefault_store = file\n"
        "filesystem_store_datadir = /tmp/images/\n\n"
        "[app:glance-registry]\npaste.app_factory = glance.registry.server:app_factory\n"
        "bind_port = 9191\nsql_connection = sqlite:///glance.sqlite\nsql_idle_timeout = 3600\n")
    api = config.load_config("glance-api", str(path))
    registry = config.load_config("glance-registry", str(path))
    assert (api.verbose, api.bind_host, api.bind_port) == (True, "127.0.0.1", 9393)
    assert api.filesystem_store_datadir == "/tmp/images/"
    assert (registry.bind_port, registry.sql_idle_timeout) == (9191, 3600)
    assert registry.verbose is True


def test_command_line_beats_file(tmp_path):
    path = tmp_path / "glance-api.conf"
    path.write_text("[DEFAULT]\nbind_port = 9393\n")
    conf = config.load_config("glance-api", str(path), {"bind_port": "9494"})
    assert conf.bind_port == 9494


@pytest.mark.parametrize("name, value, problem", [
    ("bind_port", "abc", "'abc' is not an integer"),
    ("bind_port", "70000", "70000 is not a port number"),
    ("verbose", "maybe", "'maybe' is not a boolean"),
    ("log_level", "LOUD", "'LOUD' is not one of"),
    ("default_store", "tape", "'tape' is not one of"),
])
def test_bad_value_names_option_and_file(tmp_path, name, value, problem):
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\n{name} = {value}\n")
    with pytest.raises(config.BadValue) as err:
        config.load_config("glance-api", str(path))
    message = str(err.value)
    assert name in message and str(path) in message and problem in message
    assert "\n" not in message


def test_unreadable_file_is_one_line(tmp_path):
    with pytest.raises(config.ConfigError) as err:
        config.load_config("glance-api", str(tmp_path))      # a directory
    assert str(tmp_path) in str(err.value) and "\n" not in str(err.value)


def test_masked_hides_secrets():
    conf = config.load_config("glance-api", None, {"swift_store_key": "sekrit",
                                                   "s3_store_secret_key": "s3sekrit"})
    shown = repr(conf.masked())
    assert "sekrit" not in shown and "s3sekrit" not in shown
    registry = config.load_config("glance-registry", None, {
        "sql_connection": "mysql+pymysql://glance:pa55word@db/glance"})
    assert registry.masked()["sql_connection"] == "mysql+pymysql://glance:***@db/glance"


def test_program_defaults():
    assert config.load_config("glance-api").bind_port == 9292
    assert config.load_config("glance-registry").bind_port == 9191
    # The registry trusts forwarded identity headers: loopback unless told otherwise.
    assert config.load_config("glance-registry").bind_host == "127.0.0.1"
    assert config.load_config("glance-api").bind_host == "0.0.0.0"


@pytest.mark.parametrize("program", ["glance-api", "glance-registry", "glance-scrubber"])
def test_sample_files_match_the_table(program):
    with open(os.path.join(ROOT, "etc", f"{program}.conf"), encoding="utf-8") as handle:
        assert handle.read() == config.sample_config(program), \
            f"regenerate: python -m glance.config --sample {program} > etc/{program}.conf"


def test_every_option_is_in_its_sample():
    for program in ("glance-api", "glance-registry"):
        text = config.sample_config(program)
        for opt in options.options_for(program):
            assert f"#{opt.name} = " in text


def test_help_lists_every_option(capsys):
    parser = config.build_parser("glance-api", "test")
    with pytest.raises(SystemExit):
        parser.parse_args(["--help"])
    out = capsys.readouterr().out
    for opt in options.options_for("glance-api"):
        assert "--" + opt.name.replace("_", "-") in out


def test_underscore_flags_are_accepted(tmp_path):
    parser = config.build_parser("glance-api", "test")
    conf_file = tmp_path / "glance-api.conf"
    conf_file.write_text("[DEFAULT]\n")
    conf, _ = config.parse_args("glance-api", ["--config-file", str(conf_file),
                                               "--log_file", "x.log", "--log_date_format=%H"],
                                parser)
    assert (conf.log_file, conf.log_date_format) == ("x.log", "%H")


@pytest.mark.parametrize("url, shown", [
    ("mysql+pymysql://glance:pa55word@db/glance", "mysql+pymysql://glance:***@db/glance"),
    ("mysql+pymysql://glance:pa/ss:word@db/glance", "mysql+pymysql://glance:***@db/glance"),
    ("postgresql://:pa55word@db/glance", "postgresql://:***@db/glance"),
    ("postgresql://db:5432/glance", "postgresql://db:5432/glance"),
    ("sqlite:///glance.sqlite", "sqlite:///glance.sqlite"),
])
def test_mask_url_password(url, shown):
    assert config.mask_url_password(url) == shown


@pytest.mark.parametrize("text, value", [("", None), ("0", 0), ("1", 1), ("16", 16)])
def test_workers_empty_means_the_programs_default(tmp_path, text, value):
    path = tmp_path / "glance-api.conf"
    path.write_text(f"[DEFAULT]\nworkers = {text}\n")
    assert config.load_config("glance-api", str(path)).workers == value


def test_default_workers_are_the_cpus_at_most_8(monkeypatch):
    from glance.cmd import workers
    conf = config.load_config("glance-registry")
    for cpus, expected in ((1, 1), (2, 2), (8, 8), (64, 8)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cpus: set(range(n)))
        assert workers.worker_count(conf) == expected
    assert workers.worker_count(conf.replace(workers=0)) == 0
    assert workers.worker_count(conf.replace(workers=24)) == 24


def test_negative_workers_is_refused(tmp_path):
    path = tmp_path / "glance-api.conf"
    path.write_text("[DEFAULT]\nworkers = -1\n")
    with pytest.raises(config.BadValue, match="workers"):
        config.load_config("glance-api", str(path))
