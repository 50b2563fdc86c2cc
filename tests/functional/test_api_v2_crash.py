"""A v2 web-download import whose glance-api dies: the next glance-api start kills it.

The import holds the image ``importing`` with the upload heartbeat; with the
heartbeat gone for ``saving_stale_time`` the image is killed, as a crashed
``saving`` upload is (tests/functional/test_api_crash.py).
"""
import http.server
import signal
import threading
import time

import pytest

from servers import wait_for
from v2client import V2, tenant

STALE = 3
FAST = {"upload_heartbeat_interval": 1, "saving_stale_time": STALE,
        "http_store_allow_private": "true"}


class _Stalling(http.server.BaseHTTPRequestHandler):
    """Announces 10 MiB, sends 64 KiB, then waits until released."""
    release = threading.Event()

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(10 * 1024 * 1024))
        self.end_headers()
        self.wfile.write(b"x" * 65536)
        self.wfile.flush()
        self.release.wait(60)

    def log_message(self, *args):
        pass


@pytest.fixture
def stalling_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Stalling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/disk.img"
    _Stalling.release.set()
    server.shutdown()
    server.server_close()


def test_crashed_web_download_is_killed_at_the_next_start(start_api, stalling_url):
    crashing = start_api(**FAST)
    client = V2(crashing.url, tenant("importer"))
    image = client.new(name="interrupted")
    go = client.request("POST", f"/v2/images/{image['id']}/import",
                        json={"method": {"name": "web-download", "uri": stalling_url}})
    assert go.status_code == 202, go.text
    assert wait_for(lambda: client.show(image["id"]).json()["status"] == "importing")
    first = client.show(image["id"]).json()["updated_at"]
    assert wait_for(lambda: client.show(image["id"]).json()["updated_at"] > first, timeout=5), \
        "no heartbeat while the import waited for its source"
    crashing.stop(sig=signal.SIGKILL)
    time.sleep(STALE + 1)
    restarted = start_api(**FAST)
    again = V2(restarted.url, tenant("importer"))
    assert wait_for(lambda: again.show(image["id"]).json()["status"] == "killed", timeout=10)
    assert again.download(image["id"]).status_code == 204
