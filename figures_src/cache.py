"""Keyed, checksummed, atomic cache entries, and the source digests their keys are made of.

Every cache of the build goes through here: computed figures, exported figure files, the Vega bundle,
executed notebooks, and the expensive runs several figures share (`shared_runs`).

* A key is a digest of what the cached thing depends on: the source of the `figures_src` modules its code
  imports (`source_digest`, which walks the import graph), its parameters and the library versions. A
  figure's results depend only on the code that computes them (`compute_digest`): a chart edit redraws the
  figure from its cached results.
* An entry is one JSON file holding its key, a checksum of its payload and the payload. A damaged entry is
  reported and recomputed, never used; an entry with another key is simply stale.
* Writes are atomic (a temporary file, then a rename): an interrupted build never leaves half an entry.
"""

import ast
import hashlib
import importlib.util
import json
import logging
import os
import platform
from functools import cache
from pathlib import Path
from typing import Any, Callable

from filelock import FileLock, Timeout

log = logging.getLogger("mkdocs.plugins.figures")

PACKAGE = "figures_src"


# ---------------------------------------------------------------- keys

def canonical_json(obj: Any) -> str:
    # NaN and infinities are allowed: a shared run may hold a diverged loss (Python reads them back).
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def digest(material: Any) -> str:
    """The key of anything JSON can hold."""
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


def module_file(module_name: str) -> Path:
    return Path(importlib.util.find_spec(module_name).origin)


# The source of each module as this build imported it (`pin_sources`, before the imports): keys describe the
# code that ran. A file edited while the site builds then leaves its results under the old code's key, and the
# next build computes the new code's; a key read from the disk would file the old results under the new code.
PINNED: dict[str, bytes] = {}


def pin_sources(*packages: str) -> None:
    """Read the source of every module of these packages now: call it just before importing them."""
    PINNED.clear()
    for package in packages:
        root = module_file(package).parent
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join((package, *parts[:-1]) if parts[-1] == "__init__" else (package, *parts))
            PINNED[name] = path.read_bytes()


def source(module_name: str) -> bytes:
    """A module's source: as pinned for this build, else as it is on the disk."""
    pinned = PINNED.get(module_name)
    return pinned if pinned is not None else module_file(module_name).read_bytes()


def is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # `package.module.attribute`: the parent is a module, not a package
        return False


def local_imports(module_name: str) -> set[str]:
    """The `figures_src` modules this module's code depends on, itself included, transitively."""
    seen: set[str] = set()
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += direct_imports(name, source(name))
    return seen


@cache
def direct_imports(name: str, code: bytes) -> list[str]:
    """The `figures_src` modules `name` imports itself; parsed once per version of its code."""
    return imports_in(ast.parse(code), name.rpartition(".")[0])


def imports_in(tree: ast.AST, package: str = "") -> list[str]:
    """The `figures_src` modules imported by the code in `tree` (relative imports resolved in `package`)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                if node.level else node.module
            candidates = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [c for c in candidates if c and c.split(".")[0] == PACKAGE and is_module(c)]
    return found


def source_digest(module_names: set[str] | list[str]) -> str:
    """A digest of the source of these modules and of every `figures_src` module they import."""
    modules = set().union(*(local_imports(name) for name in module_names)) if module_names else set()
    hasher = hashlib.sha256()
    for name in sorted(modules):
        hasher.update(name.encode() + b"\0" + source(name) + b"\0")
    return hasher.hexdigest()[:16]


# What a Figure says about its results and checks against them, read after computing: never an input.
READ_FIELDS = frozenset({"title", "caption", "alt_text", "claims"})


def compute_digest(module_name: str, chart_functions: set[str]) -> str:
    """A digest of what a figure module computes with: its code without the functions that only draw
    (`chart_functions`, top-level) and without the words and checks of its `Figure(...)` (`READ_FIELDS`),
    and the `figures_src` modules the rest imports. Editing a chart, a caption or a claim, or a module only
    charts use (charts, theme), keeps the computed results; comments and layout do too (the code is
    compared as parsed)."""
    tree = ast.parse(source(module_name))
    tree.body = [node for node in tree.body
                 if not (isinstance(node, ast.FunctionDef) and node.name in chart_functions)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Figure":
            node.keywords = [k for k in node.keywords if k.arg not in READ_FIELDS]
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    package = module_name.rpartition(".")[0]
    imported = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            if bound & used:
                imported += imports_in(node, package)
    return digest({"code": ast.dump(tree), "imports": source_digest(imported)})


def library_versions() -> dict[str, str]:
    import altair
    import numpy
    import torch
    import vl_convert

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": numpy.__version__,
            "altair": altair.__version__, "vl-convert": vl_convert.__version__}


# ---------------------------------------------------------------- entries

def write_atomic(path: Path, text: str) -> None:
    """The only way the build writes into a cache: never half a file, even if interrupted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # per process: workers may write side by side
    tmp.write_text(text)
    os.replace(tmp, path)


def write_entry(path: Path, key: str, payload: Any) -> None:
    write_atomic(path, json.dumps({"key": key, "checksum": digest(payload), "payload": payload}))


def read_entry(path: Path, key: str, what: str = "") -> Any | None:
    """The payload stored under `key` at `path`; None when missing, stale or damaged (a damaged entry is
    reported, naming `what`, and the caller computes it again)."""
    try:
        entry = json.loads(path.read_text())
        payload = entry["payload"]
        intact = entry["checksum"] == digest(payload)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        intact = False
    if not intact:
        # Not a warning: `mkdocs build --strict` would stop, and the cure (recomputing) is already under way.
        log.info(f"{what or path.name}: cache entry {path} is corrupt; recomputing")
        return None
    return payload if entry.get("key") == key else None


def cached(path: Path, key: str, compute: Callable[[], Any], what: str = "") -> tuple[Any, bool]:
    """(payload, whether it came from the cache): the entry at `path` if its key is `key`, else
    `compute()`, stored."""
    payload = read_entry(path, key, what)
    if payload is not None:
        return payload, True
    payload = compute()
    write_entry(path, key, payload)
    return payload, False


# ---------------------------------------------------------------- runs shared by several figures

RUNS_ENV = "DL_RUNS_CACHE"  # the folder of shared runs; set by the pipeline for itself and its workers


def shared_runs(kind: str, items: list[dict], run: Callable[[dict], Any], code_module: str) -> list[Any]:
    """`run(item)` for every item, each cached on disk by content (the item, the code of `code_module`
    and what it imports, the library versions), so that figures computed in parallel processes share them.

    Processes that ask for the same runs at once split the work: each takes the next run nobody is
    computing (a lock file per run), and waits only at the end for runs another process still holds.
    Without a cache folder (a figure computed outside the build) every run is computed here.
    A payload must be JSON (lists and numbers; NaN and infinities allowed)."""
    folder = os.environ.get(RUNS_ENV)
    if not folder:
        return [run(item) for item in items]
    code = source_digest([code_module])
    versions = library_versions()
    keys = [digest({"kind": kind, "item": item, "code": code, "versions": versions}) for item in items]
    paths = [Path(folder) / kind / f"{key[:32]}.json" for key in keys]
    (Path(folder) / kind).mkdir(parents=True, exist_ok=True)
    results: dict[int, Any] = {}
    waiting = []
    for index, (item, key, path) in enumerate(zip(items, keys, paths)):
        lock = FileLock(f"{path}.lock")
        try:
            lock.acquire(timeout=0)
        except Timeout:  # another process is computing it: take the next one
            waiting.append(index)
            continue
        try:
            results[index] = cached(path, key, lambda: run(item), f"{kind} run {item}")[0]
        finally:
            lock.release()
    for index in waiting:
        with FileLock(f"{paths[index]}.lock"):
            results[index] = cached(paths[index], keys[index], lambda: run(items[index]),
                                    f"{kind} run {items[index]}")[0]
    return [results[index] for index in range(len(items))]
