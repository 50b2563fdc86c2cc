"""glance-registry: image metadata in SQL behind a small JSON REST API."""
from dataclasses import dataclass

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider

from glance import rules


class StrictJSON(DefaultJSONProvider):
    """Request bodies that parse but cannot be stored are not JSON either
    (see :func:`glance.rules.parse_json`)."""

    sort_keys = False       # a list of 1000 images: sorting their keys costs a tenth of it

    def loads(self, s, **kwargs):
        return rules.parse_json(s)


@dataclass
class RegistryState:
    conf: object
    engine: object
    Session: object


def create_app(conf, *, engine=None):
    """Build the registry WSGI app.

    :param conf: a :class:`glance.config.Config` of glance-registry.
    :param engine: an SQLAlchemy engine; made from ``sql_connection`` when None.
        Its schema must be the newest revision (``glance-manage db_sync`` made it so).
    :raises glance.config.ConfigError: the database URL cannot be used, its schema is
        not the newest (:class:`glance.registry.db.SchemaError`), or keystone mode
        without keystonemiddleware or without the ``[keystone_authtoken]`` credentials.
    """
    # Imported here, not at the top: glance-api imports glance.registry.client
    # and must not pay for SQLAlchemy (about 20 MiB of resident memory).
    from glance import keystone
    from glance.context import for_request
    from glance.registry import (db, errors, images, members, metadef_items, metadefs, tasks,
                                 usage)
    if engine is None:
        engine = db.make_engine(conf.sql_connection, conf.sql_idle_timeout)
    app = Flask("glance.registry")
    app.json = StrictJSON(app)
    app.extensions["glance_registry"] = RegistryState(conf, engine, db.session_factory(engine))

    @app.before_request
    def _context():
        # The state's conf, read per request: SIGHUP may have replaced it.
        current = app.extensions["glance_registry"].conf
        rules.check_headers(request.environ, current)
        rules.check_filter_count(request.args.items(multi=True), current)
        g.ctx = for_request(request.headers, current)

    app.register_blueprint(images.bp)
    app.register_blueprint(members.bp)
    app.register_blueprint(metadefs.bp)
    app.register_blueprint(metadef_items.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(usage.bp)
    errors.init_app(app)
    # In keystone mode the registry validates every token itself: it never
    # trusts identity headers, not even those glance-api sends.
    app.wsgi_app = keystone.protect(app.wsgi_app, conf)
    # Last: a configuration error is reported before the state of the database.
    db.check_schema(engine)
    return app
