"""Alembic migrations and glance-manage on real MariaDB and PostgreSQL."""
from contract.registry_migrations import (check_copies_upgrade_and_downgrade,
                                          check_downgrade_and_upgrade,
                                          check_location_metadata_upgrade_and_downgrade,
                                          check_fast_checksum_upgrade_and_downgrade,
                                          check_metadefs_upgrade_keeps_images_and_downgrades,
                                          check_sync_from_empty_and_again,
                                          check_sync_adopts_an_unversioned_current_schema,
                                          check_sync_keeps_images_of_unversioned_database,
                                          check_tasks_upgrade_keeps_data_and_downgrades,
                                          check_upgrade_of_a_populated_database)


def test_db_sync_from_empty_and_again(tmp_path, fresh_database_url):
    check_sync_from_empty_and_again(tmp_path, fresh_database_url)


def test_db_sync_adopts_a_create_all_database_with_images(fresh_database_url):
    check_sync_keeps_images_of_unversioned_database(fresh_database_url)


def test_db_sync_adopts_a_current_create_all_database(fresh_database_url):
    check_sync_adopts_an_unversioned_current_schema(fresh_database_url)


def test_db_sync_upgrades_a_populated_0001_database(tmp_path, fresh_database_url):
    check_upgrade_of_a_populated_database(tmp_path, fresh_database_url)


def test_downgrade_to_base_and_back(fresh_database_url):
    check_downgrade_and_upgrade(fresh_database_url)


def test_metadefs_upgrade_keeps_images_and_downgrades(fresh_database_url):
    check_metadefs_upgrade_keeps_images_and_downgrades(fresh_database_url)


def test_tasks_upgrade_keeps_data_and_downgrades(tmp_path, fresh_database_url):
    check_tasks_upgrade_keeps_data_and_downgrades(tmp_path, fresh_database_url)


def test_fast_checksum_upgrade_keeps_images_and_downgrades(fresh_database_url):
    check_fast_checksum_upgrade_and_downgrade(fresh_database_url)


def test_copies_upgrade_keeps_locations_and_downgrades(fresh_database_url):
    check_copies_upgrade_and_downgrade(fresh_database_url)


def test_location_metadata_upgrade_keeps_locations_and_downgrades(fresh_database_url):
    check_location_metadata_upgrade_and_downgrade(fresh_database_url)
