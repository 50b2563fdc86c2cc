"""What glance-api loads: never the database layer."""
import subprocess
import sys

from servers import APP

PROBE = """
import sys, tempfile
import glance.cmd.api
from glance.api import create_app
from glance.config import load_config
create_app(load_config("glance-api", overrides={"filesystem_store_datadir": tempfile.mkdtemp()}))
print(sorted(name for name in sys.modules if name.split(".")[0] == "sqlalchemy"))
"""


def test_glance_api_never_imports_sqlalchemy():
    """SQLAlchemy costs glance-api about 20 MiB and half a second of start-up."""
    done = subprocess.run([sys.executable, "-c", PROBE], env={"PYTHONPATH": APP},
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout
