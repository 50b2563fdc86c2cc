"""glance-manage db_sync / db_version on SQLite, as a real process."""
import os
import subprocess
import sys

from contract.registry_migrations import (check_downgrade_and_upgrade,
                                          check_location_metadata_upgrade_and_downgrade,
                                          check_metadefs_upgrade_keeps_images_and_downgrades,
                                          check_sync_from_empty_and_again,
                                          check_sync_adopts_an_unversioned_current_schema,
                                          check_sync_keeps_images_of_unversioned_database,
                                          check_tasks_upgrade_keeps_data_and_downgrades,
                                          check_upgrade_of_a_populated_database,
                                          manage)
from glance.registry import db
from servers import APP


def test_db_sync_from_empty_and_again(tmp_path):
    check_sync_from_empty_and_again(tmp_path, f"sqlite:///{tmp_path}/g.sqlite")


def test_db_sync_adopts_a_create_all_database_with_images(tmp_path):
    check_sync_keeps_images_of_unversioned_database(f"sqlite:///{tmp_path}/g.sqlite")


def test_db_sync_adopts_a_current_create_all_database(tmp_path):
    check_sync_adopts_an_unversioned_current_schema(f"sqlite:///{tmp_path}/g.sqlite")


def test_db_sync_upgrades_a_populated_0001_database(tmp_path):
    check_upgrade_of_a_populated_database(tmp_path, f"sqlite:///{tmp_path}/g.sqlite")


def test_metadefs_upgrade_keeps_images_and_downgrades(tmp_path):
    check_metadefs_upgrade_keeps_images_and_downgrades(f"sqlite:///{tmp_path}/g.sqlite")


def test_tasks_upgrade_keeps_data_and_downgrades(tmp_path):
    check_tasks_upgrade_keeps_data_and_downgrades(tmp_path, f"sqlite:///{tmp_path}/g.sqlite")


def test_downgrade_to_base_and_back(tmp_path):
    check_downgrade_and_upgrade(f"sqlite:///{tmp_path}/g.sqlite")


def test_location_metadata_upgrade_keeps_locations_and_downgrades(tmp_path):
    check_location_metadata_upgrade_and_downgrade(f"sqlite:///{tmp_path}/g.sqlite")


def test_db_version_of_a_new_database(tmp_path):
    result = manage(tmp_path, f"sqlite:///{tmp_path}/g.sqlite", "db_version")
    assert result.returncode == 1
    assert result.stderr.strip() == ("ERROR: Database is not under version control; "
                                     "run glance-manage db_sync")


def test_positional_config_file_and_bad_command(tmp_path):
    url = f"sqlite:///{tmp_path}/g.sqlite"
    manage(tmp_path, url, "db_sync")
    conf = str(tmp_path / "glance-registry.conf")
    env = dict(os.environ, PYTHONPATH=APP)
    ok = subprocess.run([sys.executable, "-m", "glance.cmd.manage", conf, "db_version"],
                        cwd=tmp_path, env=env, capture_output=True, text=True)
    assert (ok.returncode, ok.stdout.strip()) == (0, db.head_revision())
    bad = manage(tmp_path, url, "db_frobnicate")
    assert bad.returncode == 2 and "expected one command" in bad.stderr


def test_unreachable_database_is_one_line(tmp_path):
    result = manage(tmp_path, "mysql+pymysql://glance:s3cret@127.0.0.1:1/glance", "db_sync")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: Database error:")
    assert "s3cret" not in result.stderr
