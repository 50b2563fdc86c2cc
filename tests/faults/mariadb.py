"""A private MariaDB server for one test: its own datadir, socket and free port.

Only this instance is ever restarted: the machine's shared MariaDB is never
touched (see the team notes on test infrastructure, MariaDB).
"""
import os
import shutil
import subprocess
import time

from integration.store.backends import unavailable
from servers import free_port, wait_for_port

INSTALL_DB = "mariadb-install-db"
SERVER = "/usr/sbin/mariadbd"


class PrivateMariaDB:
    """``start()``, ``stop()``, ``restart()``; ``url`` for the registry."""

    def __init__(self, workdir):
        self.dir = str(workdir)
        self.datadir = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mariadb.sock")
        self.log = os.path.join(self.dir, "mariadb.log")
        self.port = free_port()
        self.proc = None
        self.url = f"mysql+pymysql://glance:glancepw@127.0.0.1:{self.port}/glance"

    @staticmethod
    def available():
        if not shutil.which(INSTALL_DB) or not os.path.exists(SERVER):
            return "MariaDB is not installed (tools/setup-test-deps.sh installs it)"
        if os.geteuid() != 0:
            return "a private MariaDB runs as root here (--user=root)"
        return None

    def create(self):
        os.makedirs(self.datadir, exist_ok=True)
        subprocess.run([INSTALL_DB, "--no-defaults", f"--datadir={self.datadir}", "--user=root",
                        "--auth-root-authentication-method=normal", "--skip-test-db"],
                       check=True, capture_output=True, timeout=120)
        self.start()
        self.sql("CREATE DATABASE glance; CREATE USER 'glance'@'127.0.0.1' IDENTIFIED BY "
                 "'glancepw'; GRANT ALL ON glance.* TO 'glance'@'127.0.0.1';")
        return self

    def start(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [SERVER, "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
                 f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
                 "--innodb-buffer-pool-size=32M", "--skip-name-resolve",
                 f"--pid-file={os.path.join(self.dir, 'mariadb.pid')}"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        wait_for_port(self.port, self.proc, timeout=60, log=self.log)

    def sql(self, statements):
        subprocess.run(["mariadb", "--no-defaults", "-S", self.socket, "-uroot", "-e", statements],
                       check=True, capture_output=True, timeout=60)

    def stop(self):
        """A clean shutdown (SIGTERM), as ``systemctl restart mariadb`` does."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)

    def restart(self, down_for=0.0):
        self.stop()
        time.sleep(down_for)
        self.start()


def private_mariadb(tmp_path):
    """A created and started :class:`PrivateMariaDB`, or skip."""
    reason = PrivateMariaDB.available()
    if reason:
        unavailable(reason)
    return PrivateMariaDB(tmp_path / "mariadb").create()
