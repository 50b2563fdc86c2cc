"""Alembic migrations of the registry database (run by ``glance-manage db_sync``)."""
