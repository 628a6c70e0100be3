"""What lets the project run on Linux, macOS and Windows: the worker count."""

import os

from figures_src.workers import usable_cpus

# ---------------------------------------------------------------- worker count


def test_usable_cpus_prefers_the_process_count_of_python_3_13(monkeypatch):
    monkeypatch.setattr(os, "process_cpu_count", lambda: 3, raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4}, raising=False)
    assert usable_cpus() == 3


def test_usable_cpus_uses_the_affinity_mask_where_there_is_one(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 5}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    assert usable_cpus() == 2


def test_usable_cpus_without_an_affinity_mask_counts_the_machine_as_on_macos_and_windows(monkeypatch):
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cpus() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # "undeterminable"
    assert usable_cpus() == 1


def test_usable_cpus_on_this_machine():
    assert isinstance(usable_cpus(), int) and usable_cpus() >= 1
