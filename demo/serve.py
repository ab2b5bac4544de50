"""app.py started as a separate process on a free local port, for the benchmarks that measure it from outside."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_app(*flags: str, env: dict | None = None, timeout: float = 240) -> tuple[subprocess.Popen, str]:
    """(the app's process, its URL) once it serves a page; stop it with .terminate(). `flags` go to app.py."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port), *flags], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}/", time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return app, url
        except OSError:
            if app.poll() is not None or time.monotonic() > deadline:
                app.terminate()
                sys.exit("app.py stopped (or did not serve) before its page came up")
            time.sleep(0.2)
