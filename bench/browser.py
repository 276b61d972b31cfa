"""A live server and a headless Chromium for the benches that measure pages in a real browser.

``live_server(ctx)`` serves the bench database (the environment ``bench/run.py`` set up) as a deployment does —
static files collected and served by whitenoise, compressed and under hashed names, DEBUG off, gunicorn — on a free
port, and yields its base URL (a phone on a slow network gets what a deployment sends it, not the development
server's uncompressed files); ``chromium(p)`` launches Debian's Chromium with the house flags;
``logged_in_context(browser, base, client, **kw)`` opens a fresh context (cold cache) carrying the session of a
``django.test.Client`` that has logged in.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

# Chrome DevTools' "Fast 3G" profile: 1.6 Mbit/s down and 750 kbit/s up at 90 %, 150 ms RTT × 3.75.
FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(ctx):
    port = free_port()
    env = {**os.environ, "RENFANG_DEBUG": "0", "RENFANG_STATIC_MANIFEST": "1"}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=str(ctx.root), env=env,
                   check=True, stdout=subprocess.DEVNULL)
    gunicorn = os.path.join(os.path.dirname(sys.executable), "gunicorn")
    server = subprocess.Popen([gunicorn, "renfang.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--timeout", "120"], cwd=str(ctx.root), env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.25)
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def chromium(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])


def logged_in_context(browser, base: str, client, **kwargs):
    from django.conf import settings

    context = browser.new_context(**kwargs)
    sid = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": sid, "url": base}])
    return context
