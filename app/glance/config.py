"""Finding, reading and checking the configuration file.

Precedence, highest first: command-line flags, the ``[app:<program>]``
section of the file (as in Glance 2011's single ``glance.conf``), its
``[DEFAULT]`` section, and the defaults in :mod:`glance.options`.

Sections that belong to a library (``[keystone_authtoken]``) are kept
whole, as text, and handed to that library: ``conf.section(name)``.
"""
import argparse
import configparser
import os
import re
import sys

from glance import __version__
from glance import options as opts

SEARCH_DIRS = (".", "~/.glance", "~", "/etc/glance", "/etc")

# Which file names each program looks for, in order.
CONFIG_NAMES = {
    opts.MANAGE: ("glance-registry.conf", "glance.conf"),
    # The cache commands look after the cache glance-api fills: same file, same datadir.
    opts.CACHE: ("glance-api.conf", "glance.conf"),
}

# Diablo-style paste sections that also hold a program's options.
APP_SECTIONS = {
    opts.API: ("app:glance-api", "app:apiv1app"),
    opts.REGISTRY: ("app:glance-registry", "app:registryapp"),
    opts.SCRUBBER: ("app:glance-scrubber",),
    opts.CACHE: ("app:glance-api", "app:apiv1app"),
}

# Sections read whole and passed to a library as its configuration.
LIBRARY_SECTIONS = {
    opts.API: ("keystone_authtoken",),
    opts.REGISTRY: ("keystone_authtoken",),
    opts.CACHE: ("keystone_authtoken",),
}

# Glance's multiple stores: the default one is named here; each store has its own [name].
STORE_SECTION = "glance_store"

# Keys of library sections never logged (password, memcache_secret_key, admin_token...).
SECRET_KEY = re.compile(r"password|secret|token", re.I)

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0", "")


class ConfigError(Exception):
    """A configuration problem, reported to the operator as one line."""


class ConfigNotFound(ConfigError):
    def __init__(self, program):
        super().__init__("Unable to locate any configuration file. "
                         f"Cannot load application {program}")


class BadValue(ConfigError):
    def __init__(self, name, source, problem):
        self.name, self.source, self.problem = name, source, problem
        super().__init__(f"Invalid value for option {name} in {source}: {problem}")


def config_names(program):
    return CONFIG_NAMES.get(program, (f"{program}.conf", "glance.conf"))


def find_config_file(program, *, explicit=None, positional=None, dirs=SEARCH_DIRS):
    """Return the path of the configuration file ``program`` should read.

    :param explicit: the ``--config-file`` value; it must exist.
    :param positional: the first positional argument, used when it is a file.
    :raises ConfigError: ``explicit`` is missing, or nothing is found.
    """
    if explicit:
        if not os.path.isfile(explicit):
            raise ConfigError(f"Configuration file {explicit} does not exist")
        return os.path.abspath(explicit)
    if positional and os.path.isfile(positional):
        return os.path.abspath(positional)
    for name in config_names(program):
        for folder in dirs:
            path = os.path.join(os.path.expanduser(folder), name)
            if os.path.isfile(path):
                return os.path.abspath(path)
    raise ConfigNotFound(program)


def parse_value(opt, raw, source):
    """Turn the text ``raw`` into the option's type, or raise :class:`BadValue`."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if opt.type == "str":
        return text
    if opt.type == "bool":
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise BadValue(opt.name, source, f"{text!r} is not a boolean (true or false)")
    if opt.type in ("int", "port"):
        if not text and opt.default is None:
            return None          # unset: the program decides (e.g. workers: the CPUs)
        try:
            value = int(text)
        except ValueError:
            raise BadValue(opt.name, source, f"{text!r} is not an integer") from None
        if opt.type == "port" and not 0 < value < 65536:
            raise BadValue(opt.name, source, f"{value} is not a port number (1-65535)")
        if opt.type == "int" and value < 0:
            raise BadValue(opt.name, source, f"{value} must not be negative")
        return value
    if opt.type == "float":
        try:
            return float(text)
        except ValueError:
            raise BadValue(opt.name, source, f"{text!r} is not a number") from None
    if opt.type == "choice":
        folded = text.upper() if opt.name == "log_level" else text
        if folded not in opt.choices:
            allowed = ", ".join(c for c in opt.choices if c)
            raise BadValue(opt.name, source, f"{text!r} is not one of: {allowed}")
        return folded
    raise AssertionError(opt.type)


def mask_url_password(url):
    """``url`` with its password shown as ``***``.

    The pattern is SQLAlchemy's: the password runs from the first ``:`` after
    the user to the ``@``, so it may hold ``/`` and ``:``.
    """
    return re.sub(r"^([\w+]+://[^:/]*:)[^@]*@", r"\1***@", url)


class Config:
    """The effective options of one program: ``conf.bind_port``, ``conf["bind_port"]``."""

    def __init__(self, program, values, path=None, sections=None):
        self._program = program
        self._values = dict(values)
        self._path = path
        self._sections = {name: dict(items) for name, items in (sections or {}).items()}

    program = property(lambda self: self._program)
    path = property(lambda self: self._path)

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name):
        return self._values[name]

    def __contains__(self, name):
        return name in self._values

    def get(self, name, default=None):
        return self._values.get(name, default)

    def as_dict(self):
        return dict(self._values)

    def section(self, name):
        """The ``[name]`` library section as ``{key: text}`` (empty when absent)."""
        return dict(self._sections.get(name, {}))

    def replace(self, **changes):
        return Config(self._program, {**self._values, **changes}, self._path, self._sections)

    def masked(self):
        """The options with passwords and keys hidden, fit for a log.

        Library sections appear as ``section.key``.
        """
        shown = {}
        for name, value in self._values.items():
            opt = opts.BY_NAME.get(name)
            if opt is not None and opt.secret and value:
                value = mask_url_password(value) if "://" in str(value) else "***"
            shown[name] = value
        for section, items in self._sections.items():
            for key, value in items.items():
                opt = opts.BY_NAME.get(key)      # a store's own options ([name] sections)
                if value and (SECRET_KEY.search(key) or (opt is not None and opt.secret)):
                    value = "***"
                elif "://" in value:
                    value = mask_url_password(value)
                shown[f"{section}.{key}"] = value
        return shown


def _parse(path, default_section=configparser.DEFAULTSECT):
    parser = configparser.ConfigParser(interpolation=None, strict=False,
                                       default_section=default_section)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise ConfigError(f"Cannot read configuration file {path}: {exc.strerror}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"Cannot parse configuration file {path}: {first}") from None
    return parser


def read_file(program, path):
    """Read the raw option values for ``program`` from ``path``."""
    return _options(program, _parse(path))


def _options(program, parser):
    raw = dict(parser.defaults())
    for section in APP_SECTIONS.get(program, ()):
        if parser.has_section(section):
            raw.update({k: v for k, v in parser.items(section) if not k.startswith("paste.")})
    return raw


def parse_backends(text):
    """``enabled_backends`` (``name:type, …``) as ``[(name, type)]``; empty when unset.

    :raises ConfigError: an entry without a name or type, or a name given twice.
    """
    pairs = []
    for entry in (text or "").split(","):
        if not entry.strip():
            continue
        name, _, kind = (part.strip() for part in entry.partition(":"))
        if not name or not kind:
            raise ConfigError(f"Invalid enabled_backends entry {entry.strip()!r}: "
                              "expected name:type")
        if name in (n for n, _ in pairs):
            raise ConfigError(f"Store {name!r} is named twice in enabled_backends")
        pairs.append((name, kind))
    return pairs


def _library_sections(program, path, extra=()):
    """The library sections of ``program`` in ``path``, without ``[DEFAULT]`` merged in.

    :param extra: more sections to read whole (the multiple stores' sections).
    """
    wanted = LIBRARY_SECTIONS.get(program, ()) + tuple(extra)
    if not wanted:
        return {}
    # [DEFAULT] holds glance's options, not the library's: read it as an ordinary section.
    parser = _parse(path, default_section="glance: no defaults")
    return {name: {key: value.strip() for key, value in parser.items(name)}
            for name in wanted if parser.has_section(name)}


def load_config(program, path=None, overrides=None):
    """Build the :class:`Config` of ``program`` from a file and flag overrides.

    :param path: configuration file, or None for defaults only.
    :param overrides: values from the command line, already typed or as text.
    :raises ConfigError: a value is invalid or the file cannot be read.
    """
    raw = read_file(program, path) if path else {}
    values = {}
    for opt in opts.options_for(program):
        if overrides and overrides.get(opt.name) is not None:
            values[opt.name] = parse_value(opt, overrides[opt.name], "the command line")
        elif opt.name in raw:
            values[opt.name] = parse_value(opt, raw[opt.name], path)
        else:
            values[opt.name] = opts.default_for(opt, program)
    extra = ()
    if program in opts.STORES:
        extra = (STORE_SECTION, *(name for name, _ in parse_backends(values["enabled_backends"])))
    sections = _library_sections(program, path, extra) if path else {}
    return Config(program, values, path, sections)


def _dashed(argv):
    """Accept the seed's underscore spellings (``--log_file``) for every flag."""
    out = []
    for arg in argv:
        match = re.match(r"^--([a-z0-9_-]+)(=.*)?$", arg, re.S)
        if match:
            arg = "--" + match.group(1).replace("_", "-") + (match.group(2) or "")
        out.append(arg)
    return out


def build_parser(program, description, usage=None):
    """The argument parser shared by every command: config, logging and option flags."""
    parser = argparse.ArgumentParser(prog=program, description=description, usage=usage,
                                     allow_abbrev=False)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config-file", metavar="PATH",
                        help="Configuration file. Without it the first of "
                             + ", ".join(config_names(program)) + " found in "
                             + ", ".join(SEARCH_DIRS) + " is read.")
    log = parser.add_argument_group("logging")
    log.add_argument("-v", "--verbose", action="store_true", default=None, help="Log at INFO level.")
    log.add_argument("-d", "--debug", action="store_true", default=None, help="Log at DEBUG level.")
    shown = {"verbose", "debug"}
    for opt in opts.options_for(program):
        if opt.section == "Logging" and opt.name not in shown:
            # Boolean logging options are plain flags, as --use-syslog was in Glance.
            kind = ({"action": "store_true"} if opt.type == "bool" else {"metavar": "VALUE"})
            log.add_argument("--" + opt.name.replace("_", "-"), dest=opt.name, default=None,
                             help=f"{opt.help} (default: {opt.default!r})"
                             .replace("%", "%%"), **kind)
            shown.add(opt.name)
    group = parser.add_argument_group("options (also settable in the configuration file)")
    for opt in opts.options_for(program):
        if opt.name in shown:
            continue
        default = opts.default_for(opt, program)
        extra = {"choices": [c for c in opt.choices if c]} if opt.choices else {}
        group.add_argument("--" + opt.name.replace("_", "-"), dest=opt.name, default=None,
                           metavar="VALUE" if not extra else None,
                           help=f"{opt.help} (default: {'***' if opt.secret else repr(default)})"
                           .replace("%", "%%"), **extra)
    return parser


def parse_args(program, argv, parser, positional=None):
    """Parse ``argv`` and load the configuration it names.

    :param positional: name of the parser's positional argument that may hold
        the configuration file (the seed's ``glance-api /etc/glance/glance-api.conf``).
    :returns: ``(conf, args)``
    :raises ConfigError: nothing found, unreadable, or a bad value.
    """
    args = parser.parse_args(_dashed(argv))
    first = getattr(args, positional, None) if positional else None
    if isinstance(first, list):
        first = first[0] if first else None
    path = find_config_file(program, explicit=args.config_file, positional=first)
    return load_config(program, path, command_line_values(program, args)), args


def command_line_values(program, args):
    """The option values given on the command line (None where not given)."""
    return {opt.name: getattr(args, opt.name, None) for opt in opts.options_for(program)}


def sample_config(program):
    """The sample configuration file of ``program``, every option commented."""
    lines = [f"# Configuration of {program} {__version__}.",
             "# Generated from glance/options.py; every option is shown with its default.",
             "", "[DEFAULT]"]
    section = None
    for opt in opts.options_for(program):
        if opt.section != section:
            section = opt.section
            lines += ["", f"# --- {section} ---"]
        lines.append("")
        for chunk in _wrap(opt.help):
            lines.append(f"# {chunk}")
        if opt.choices:
            lines.append("# Choices: " + ", ".join(c or "(empty)" for c in opt.choices))
        value = opts.default_for(opt, program)
        if isinstance(value, bool):
            value = str(value).lower()
        lines.append(f"#{opt.name} = {'' if value is None else value}")
    if "keystone_authtoken" in LIBRARY_SECTIONS.get(program, ()):
        lines += KEYSTONE_SAMPLE
    return "\n".join(lines) + "\n"


KEYSTONE_SAMPLE = [
    "", "# --- Keystone (auth_strategy = keystone) ---", "",
    "# Read by keystonemiddleware's auth_token (every key it knows may be set here);",
    "# glance-api also takes its own service token from these credentials. The user",
    "# needs the admin role (admin_role) in its project.",
    "#[keystone_authtoken]",
    "#www_authenticate_uri = http://keystone.example.com:5000/v3",
    "#auth_url = http://keystone.example.com:5000/v3",
    "#auth_type = password",
    "#username = glance",
    "#password = GLANCE_PASSWORD",
    "#project_name = service",
    "#user_domain_name = Default",
    "#project_domain_name = Default",
    "#delay_auth_decision = true",
]


def _wrap(text, width=76):
    words, line, out = text.split(), "", []
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            out.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return out + ([line] if line else [])


def main(argv=None):
    """``python -m glance.config --sample PROGRAM`` prints a sample file."""
    parser = argparse.ArgumentParser(prog="python -m glance.config")
    parser.add_argument("--sample", choices=opts.ALL, required=True)
    args = parser.parse_args(argv)
    sys.stdout.write(sample_config(args.sample))


if __name__ == "__main__":
    main()
