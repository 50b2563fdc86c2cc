"""glance-manage: create and upgrade the registry database.

``glance-manage [--config-file F | F] db_sync`` brings the schema to the newest
revision (safe to repeat, keeps the images); ``db_version`` prints the
revision the database is at.
"""
import os
import sys

import sqlalchemy.exc

from glance import config, options as opts
from glance.cmd.common import fail, fail_db, start

PROGRAM = opts.MANAGE
COMMANDS = ("db_sync", "db_version")


def build_parser():
    parser = config.build_parser(PROGRAM, "Manage the Glance registry database.",
                                 usage="%(prog)s [options] [CONFIG_FILE] {db_sync,db_version}")
    parser.add_argument("words", nargs="+", metavar="[CONFIG_FILE] COMMAND",
                        help="an optional configuration file, then one of: " + ", ".join(COMMANDS))
    return parser


def main(argv=None):
    parser = build_parser()
    conf, args = start(PROGRAM, argv, parser, positional="words")
    words = list(args.words)
    if len(words) == 2 and os.path.isfile(words[0]):
        words = words[1:]   # the first word named the configuration file
    if len(words) != 1 or words[0] not in COMMANDS:
        parser.error("expected one command: " + ", ".join(COMMANDS))
    from glance.registry import db
    try:
        engine = db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
        if words[0] == "db_sync":
            revision = db.db_sync(engine)
            print(f"Database is at revision {revision}")
        else:
            revision = db.current_revision(engine)
            if revision is None:
                fail("Database is not under version control; run glance-manage db_sync")
            print(revision)
    except config.ConfigError as exc:
        fail(str(exc))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        fail_db("Database error", exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
