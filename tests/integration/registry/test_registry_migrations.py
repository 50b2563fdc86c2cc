"""Alembic migrations and glance-manage on real MariaDB and PostgreSQL."""
from contract.registry_migrations import (check_downgrade_and_upgrade,
                                          check_sync_from_empty_and_again,
                                          check_sync_keeps_images_of_unversioned_database)


def test_db_sync_from_empty_and_again(tmp_path, fresh_database_url):
    check_sync_from_empty_and_again(tmp_path, fresh_database_url)


def test_db_sync_adopts_a_create_all_database_with_images(fresh_database_url):
    check_sync_keeps_images_of_unversioned_database(fresh_database_url)


def test_downgrade_to_base_and_back(fresh_database_url):
    check_downgrade_and_upgrade(fresh_database_url)
