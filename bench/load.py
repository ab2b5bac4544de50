"""A classroom against a launched app: N concurrent clients, M requests each (a mix of tabs), through
gradio_client. Per round (every client's k-th request): errors, p50/p95 latency, the server's RSS and the
disk its response files take.

    python bench/load.py --clients 8 --requests 20                      # Generate only, public mode
    python bench/load.py --clients 4 --requests 5 --mix generate,denoise,compare,batch
    python bench/load.py --clients 4 --requests 48 --mix generate,generate,generate,denoise,interpolate,batch
    python bench/load.py --clients 30 --requests 1 --mix zip     # a class, each downloading the HW6 zip

Numbers depend on the machine: run it on the one you report. The app runs in public (Space) mode with
--cache-ttl (default 30 s here, so a few minutes show whether disk stays flat).
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABS = ("generate", "denoise", "compare", "interpolate", "batch", "zip")


def calls(checkpoint: str, sampler: str, steps: int, zip_steps: int) -> dict[str, tuple[tuple, str]]:
    """Each tab's request (arguments, API name). Generate, Batch (20 images) and zip (the HW6 1000 images) use the
    given checkpoint, sampler and steps; Denoising, Compare and Interpolation teach with the teacher."""
    return {
        "generate": ((0, 8, sampler, steps, 0.0, checkpoint, True, 1.0), "/generate"),
        "denoise": ((0, 3, "DDIM", 20, 0.0, "anime-64"), "/denoise"),
        "compare": ((0, "5,10", "0,1", False, "anime-64"), "/compare"),
        "interpolate": ((0, 1, 4, 10, "anime-64", 1.0), "/interpolate"),
        "batch": ((20, 0, sampler, steps, 0.0, checkpoint, False, "Best available", 1.0), "/batch"),
        "zip": ((1000, 0, sampler, zip_steps, 0.0, checkpoint, False, "Best available", 1.0), "/batch"),
    }


def disk_mb(path: str) -> float:
    total = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(dirpath, n))
            except OSError:
                pass
    return total / 2**20


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=20, help="requests per client")
    p.add_argument("--mix", default="generate", help=f"comma-separated, from: {', '.join(TABS)}")
    p.add_argument("--checkpoint", default="anime-64-fast", help="for generate, batch and zip (the app's default)")
    p.add_argument("--sampler", default="DDIM", help="for generate, batch and zip (what the default student takes)")
    p.add_argument("--steps", type=int, default=2, help="for generate and batch")
    p.add_argument("--zip-steps", type=int, default=2, help="for zip (generate.py's default: the student's 2)")
    p.add_argument("--cache-ttl", type=float, default=30)
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE",
                   help="an environment variable for the app (repeatable), e.g. MALLOC_ARENA_MAX=2")
    args = p.parse_args()
    mix = [m for m in args.mix.split(",") if m]
    unknown = set(mix) - set(TABS)
    if unknown:
        p.error(f"unknown tab(s) {sorted(unknown)}; choose from {', '.join(TABS)}")
    table = calls(args.checkpoint, args.sampler, args.steps, args.zip_steps)
    import psutil
    from gradio_client import Client

    tmp = tempfile.mkdtemp(prefix="load-")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_TEMP_DIR": tmp, "GRADIO_ANALYTICS_ENABLED": "False",
           **dict(e.split("=", 1) for e in args.server_env)}
    server = subprocess.Popen([sys.executable, "app.py", "--port", str(port), "--public", "--cache-ttl",
                               str(args.cache_ttl)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    proc = psutil.Process(server.pid)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(240):
            try:
                Client(url, verbose=False)
                break
            except Exception:  # noqa: BLE001 (not up yet)
                time.sleep(0.5)
        rounds: dict[int, list[tuple[float, bool]]] = {}
        lock = threading.Lock()
        failures: list[str] = []

        def client_loop(c: int) -> None:
            client = Client(url, verbose=False)
            for k in range(args.requests):
                call, api = table[mix[(c + k) % len(mix)]]
                t0 = time.perf_counter()
                try:
                    client.predict(*call, api_name=api)
                    ok = True
                except Exception as e:  # noqa: BLE001 (counted as an error, and shown at the end)
                    ok = False
                    with lock:
                        failures.append(f"client {c}, request {k + 1} ({api}): {type(e).__name__}: {e}")
                with lock:
                    rounds.setdefault(k, []).append((time.perf_counter() - t0, ok))

        print(f"{args.clients} clients × {args.requests} requests ({', '.join(mix)}), public mode, cache TTL "
              f"{args.cache_ttl:g} s; {os.cpu_count()} CPUs\n")
        print("| round | requests | errors | p50 s | p95 s | server RSS MB | response files MB |")
        print("|---|---|---|---|---|---|---|")
        threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(args.clients)]
        t_start = time.time()
        for t in threads:
            t.start()
        shown = 0
        while shown < args.requests:
            time.sleep(0.5)
            with lock:
                ready = len(rounds.get(shown, [])) == args.clients
                results = list(rounds.get(shown, []))
            if ready:
                lat = sorted(r[0] for r in results)
                p95 = lat[min(len(lat) - 1, int(round(0.95 * (len(lat) - 1))))]
                rss = proc.memory_info().rss / 2**20
                print(f"| {shown + 1} | {len(results)} | {sum(not ok for _, ok in results)} | "
                      f"{statistics.median(lat):.1f} | {p95:.1f} | {rss:.0f} | {disk_mb(tmp):.1f} |", flush=True)
                shown += 1
        for t in threads:
            t.join()
        every = [r for rs in rounds.values() for r in rs]
        print(f"\n{len(every)} requests in {time.time() - t_start:.0f} s, {sum(not ok for _, ok in every)} errors")
        for failure in failures[:10]:
            print(failure)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
