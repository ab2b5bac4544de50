"""How many CPU cores this process may really use, so torch does not start a thread per core the container
merely reports (a 2-core Space can report 16, and 16 threads on 2 cores run slower than 2).

Order: $CPU_CORES (set by the deployment), the cgroup CPU quota (cpu.max, cgroup v2; cpu.cfs_quota_us, v1),
the CPU affinity mask, os.cpu_count().
"""
from __future__ import annotations

import math
import os


def _cgroup_quota() -> int | None:
    for path, parse in (("/sys/fs/cgroup/cpu.max", lambda s: s.split()),
                        ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", lambda s: [s.strip(), _read(
                            "/sys/fs/cgroup/cpu/cpu.cfs_period_us") or "100000"])):
        text = _read(path)
        if text:
            quota, period = parse(text)[:2]
            if quota not in ("max", "-1") and int(period) > 0:
                return max(1, math.ceil(int(quota) / int(period)))
    return None


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except (OSError, ValueError):
        return None


def granted_cores() -> int:
    """The cores this process is granted (see the module docstring for where the number comes from)."""
    env = os.environ.get("CPU_CORES", "").strip()
    if env:
        try:
            return max(1, int(float(env)))
        except ValueError:
            pass
    candidates = [n for n in (_cgroup_quota(),) if n]
    if hasattr(os, "sched_getaffinity"):
        candidates.append(len(os.sched_getaffinity(0)))
    candidates.append(os.cpu_count() or 1)
    return max(1, min(candidates))


def use_granted_cores() -> int:
    """Set torch's intra-op threads to the granted cores; returns that number."""
    import torch

    n = granted_cores()
    torch.set_num_threads(n)
    return n
