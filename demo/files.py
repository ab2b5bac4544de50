"""Files the app makes for its responses (zips, GIFs, plots) live in one folder inside Gradio's temporary
folder, and both are swept of entries older than the cache TTL, by the newest file in each (the app's one
sweeper: Gradio's own delete_cache is off, since it goes by a file's ctime and misses the files uploads leave at
its top level), so a Space that serves a class for weeks does not fill its disk."""
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


def writable(path: str) -> str:
    """path, its folder made again if the sweeper took it: a response that computes longer than the cache TTL
    between two files (a slow machine, a short TTL) must not fail on the second; the first was already sent."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return path


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
            if now - _newest_mtime(path) > ttl:
                shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)
                removed += 1
        except FileNotFoundError:
            pass
    return removed


def _newest_mtime(path: str) -> float:
    """The latest modification of path or anything in it. Gradio keeps each output under the hash of its bytes and
    rewrites or touches the file (not its folder) when the same image is served again, so a folder's own time
    says when it was made, not when it was last handed out (going by it, a class's repeated seed-0 batch got 403s)."""
    newest = os.lstat(path).st_mtime
    if os.path.isdir(path) and not os.path.islink(path):
        for dirpath, dirnames, names in os.walk(path):
            for name in dirnames + names:
                try:
                    newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
                except FileNotFoundError:
                    pass
    return newest


def start_sweeper(ttl: float, roots: list[str], after=None) -> threading.Thread:
    """Sweep every root every min(60 s, ttl / 2) in a daemon thread, then call `after` (e.g. lab.memory.trim)."""
    def loop() -> None:
        while True:
            time.sleep(max(1.0, min(60.0, ttl / 2)))
            for root in roots:
                sweep(ttl, root)
            if after is not None:
                after()

    thread = threading.Thread(target=loop, name="cache-sweeper", daemon=True)
    thread.start()
    return thread
