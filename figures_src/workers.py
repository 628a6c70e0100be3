"""How many CPUs this process may use, on Linux, macOS and Windows."""

import os


def usable_cpus() -> int:
    """The CPUs this process may run on: its affinity mask where the platform has one (Linux; a container
    or `taskset` may allow fewer than the machine has), else every CPU of the machine (macOS, Windows);
    at least 1."""
    if hasattr(os, "process_cpu_count"):  # Python ≥ 3.13: the affinity mask where there is one, else cpu_count
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):  # Linux and some Unixes; absent on macOS and Windows
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
