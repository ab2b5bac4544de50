"""Files the app makes for its responses (zips, GIFs, plots) live in one folder inside Gradio's temporary
folder, and both are swept of entries older than the cache TTL (Gradio's own delete_cache misses the files
uploads leave at its top level), so a Space that serves a class for weeks does not fill its disk."""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time

GRADIO_TMP = os.environ.get("GRADIO_TEMP_DIR") or os.path.join(tempfile.gettempdir(), "gradio")
ROOT = os.path.join(GRADIO_TMP, "anime-face-lab")


def new_dir(prefix: str) -> str:
    """A fresh folder for one response's files."""
    os.makedirs(ROOT, exist_ok=True)
    return tempfile.mkdtemp(prefix=f"{prefix}-", dir=ROOT)


def sweep(ttl: float, root: str = ROOT) -> int:
    """Delete the entries of root last modified more than ttl seconds ago (our own folder excepted when
    sweeping Gradio's); returns how many went."""
    if not os.path.isdir(root):
        return 0
    now, removed = time.time(), 0
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if path == ROOT:
            continue
        try:
            if now - os.lstat(path).st_mtime > ttl:
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def start_sweeper(ttl: float, roots: list[str]) -> threading.Thread:
    """Sweep every root every min(60 s, ttl / 2) in a daemon thread."""
    def loop() -> None:
        while True:
            time.sleep(max(1.0, min(60.0, ttl / 2)))
            for root in roots:
                sweep(ttl, root)

    thread = threading.Thread(target=loop, name="cache-sweeper", daemon=True)
    thread.start()
    return thread
