"""The production path cannot rot: ``deploy/prod.sh`` (what ``make prod`` runs) is started against a new
PostgreSQL database and driven from outside as a user would — through nginx with TLS: a login with the second
factor, a page, the headers production promises, a periodic job run by the worker; the deployment check passed
(the script stops before serving when it fails)."""

from __future__ import annotations

import base64
import http.cookiejar
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
pytestmark = [
    pytest.mark.skipif(not POSTGRES, reason="the production stack runs on PostgreSQL (this is the SQLite run)"),
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is installed by `make browser` (Debian)"),
]
PASSWORD = "Prod-Stack-Check-2026!"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg(dbname: str = "postgres"):
    import psycopg

    cfg = settings.DATABASES["default"]
    return psycopg.connect(host=cfg["HOST"] or "127.0.0.1", port=cfg["PORT"] or 5432, user=cfg["USER"] or None,
                           dbname=dbname, autocommit=True)


class Browser:
    """urllib with a cookie jar over TLS to the self-signed certificate, redirects followed by hand."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None

        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  urllib.request.HTTPSHandler(context=ctx), NoRedirect())

    def go(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        try:
            resp = self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as exc:
            resp = exc
        return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")

    def follow(self, path: str):
        """GET, following redirects within the site; the final (status, path, page)."""
        for _ in range(6):
            status, headers, page = self.go(path)
            if status not in (301, 302):
                return status, path, page
            loc = urllib.parse.urlparse(headers["Location"])
            path = loc.path + (f"?{loc.query}" if loc.query else "")
        raise AssertionError(f"too many redirects at {path}")

    def form(self, path: str, fields: dict):
        """Send the page's form that holds the first of ``fields`` (its hidden inputs as the page has them)."""
        status, _h, page = self.go(path)
        assert status == 200, (path, status, page[:300])
        first = next(iter(fields))
        form = next(f for f in re.findall(r"<form.*?</form>", page, re.S) if f'name="{first}"' in f)
        hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        return self.go(path, {**hidden, **fields}), page


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    state = tmp_path_factory.mktemp("prodstack")
    name = f"test_prodstack_{os.getpid()}"
    cfg = settings.DATABASES["default"]
    url = f"postgres://{cfg['USER'] or 'postgres'}@{cfg['HOST'] or '127.0.0.1'}:{cfg['PORT'] or 5432}/{name}"
    port, https_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RENFANG_", "DJANGO_")) and k != "DATABASE_URL"}
    env.update(DATABASE_URL=url, RENFANG_STATE=str(state), PORT=str(port), HTTPS_PORT=str(https_port),
               WORKERS="1", PY=sys.executable)
    with _pg() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    log = open(state / "prod.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(["bash", "deploy/prod.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 420
        while True:
            text = (state / "prod.log").read_text()
            if "https://" in text and "production stack" in text:
                break
            assert proc.poll() is None, f"deploy/prod.sh stopped:\n{text[-3000:]}"
            assert time.monotonic() < deadline, f"deploy/prod.sh did not come up:\n{text[-3000:]}"
            time.sleep(1)
        # The first administrator, as the operator would make them (same environment through deploy/manage.sh).
        (state / "pw").write_text(PASSWORD)
        boot = subprocess.run(["bash", "deploy/manage.sh", "bootstrap", "--street-code", "320507001",
                               "--street-name", "元和街道", "--admin", "ops:system_admin",
                               "--password-file", str(state / "pw")], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=120)
        assert boot.returncode == 0, boot.stderr[-2000:]
        import http.client

        for _ in range(120):  # gunicorn answers anything (a redirect to https, a 4xx) without it being followed: up
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                probe.request("GET", "/")
                probe.getresponse()
                break
            except OSError:
                time.sleep(1)
            finally:
                probe.close()
        yield {"base": base, "port": port, "state": state, "db": name, "log": state / "prod.log"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        with _pg() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_production_stack_serves_a_login_with_the_second_factor_a_page_and_runs_the_worker(stack):
    from django_otp.oath import totp

    text = stack["log"].read_text()
    assert "check --deploy" in text and "System check identified no issues" in text, text[-2000:]
    b = Browser(stack["base"])
    status, headers, _page = b.go("/access/login/")
    assert status == 200 and "max-age=31536000" in headers.get("Strict-Transport-Security", "")
    assert "Django" not in headers.get("Server", "") and "nginx/" not in headers.get("Server", "")
    (status, headers, _), _ = b.form("/access/login/", {"username": "ops", "password": PASSWORD})
    assert status == 302, "the login is accepted"
    # A system administrator must enrol a second factor: read the key from the page, answer with its code.
    status, path, page = b.follow(headers["Location"])
    assert status == 200 and path.startswith("/access/otp/setup/"), (status, path)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    code = f"{totp(base64.b32decode(secret)):06d}"
    (status, headers, _), _ = b.form(path, {"token": code})
    assert status == 302, "the second factor is enrolled"
    status, _h, page = b.go("/access/users/")
    assert status == 200 and "ops" in page
    # The site is served only over TLS: plain HTTP to the app is sent to HTTPS.
    import http.client

    plain = http.client.HTTPConnection("127.0.0.1", stack["port"], timeout=10)
    plain.request("GET", "/access/login/", headers={"Host": "127.0.0.1"})
    answer = plain.getresponse()
    assert answer.status == 301 and answer.getheader("Location").startswith("https://")
    plain.close()
    # The worker ran the periodic jobs from the database queue.
    deadline = time.monotonic() + 90
    with _pg(stack["db"]) as conn:
        while True:
            done = conn.execute("SELECT count(*) FROM django_tasks_database_dbtaskresult WHERE status = 'SUCCESSFUL' "
                                "AND task_path = 'cockpit.tasks.refresh_rollups'").fetchone()[0]
            if done:
                break
            assert time.monotonic() < deadline, (stack["state"] / "worker.log").read_text()[-2000:]
            time.sleep(2)
    assert done >= 1
