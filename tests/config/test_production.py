"""The production profile (`make serve`) collects static files before it serves, so pages
answer with DEBUG off on a fresh machine instead of failing on a missing manifest."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.config.test_settings import PRODUCTION, ROOT


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, str, bytes]:
    # As the TLS proxy in front of Levelset would forward it.
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_make_serve_collects_static_files_and_serves_pages_with_debug_off(
    tmp_path: Path,
) -> None:
    port = free_port()
    keep = {"PATH", "HOME", "LANG", "VIRTUAL_ENV"}
    env = {
        **{k: v for k, v in os.environ.items() if k in keep},
        **PRODUCTION,
        "ALLOWED_HOSTS": "127.0.0.1",
        "BEHIND_TLS_PROXY": "true",
        "LEVELSET_VAR_DIR": str(tmp_path / "var"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": "1",
    }
    env.pop("CACHE_URL")  # one process: the per-process cache is enough (check warns)
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        status = 0
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, _, body = fetch(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                time.sleep(0.5)
        output = (tmp_path / "serve.log").read_text()
        assert status == 200, output[-3000:]
        page = body.decode()
        stylesheet = re.search(r'href="(/static/css/levelset\.[0-9a-f]{12}\.css)"', page)
        assert stylesheet, page[:2000]
        css_status, css_type, css = fetch(f"http://127.0.0.1:{port}{stylesheet.group(1)}")
        assert css_status == 200 and css_type.startswith("text/css") and css
        assert (tmp_path / "var" / "static" / "staticfiles.json").exists()
        assert "collectstatic" in output or "static files copied" in output
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
