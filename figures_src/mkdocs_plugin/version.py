"""Which release and which commit a build shows, so a citation pins what a reader saw.

The version is pyproject.toml's ("unknown" without one); the commit is the first COMMIT_DIGITS hex digits of the hash of the
checkout the site is built from, with "+dirty" when files differ from it, and the date is the commit's own (not the wall
clock: a rebuild of the same commit gives the same bytes). Built from a copy without git (a tarball), the
commit is "unknown commit" and the date empty.
"""

import json
import subprocess
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

UNKNOWN_COMMIT = "unknown commit"
# A fixed length, not git's %h, whose length depends on the clone (a shallow CI clone abbreviates shorter than a
# full one), so every clone of a commit stamps the same bytes; 12 digits stay unique in any real history.
COMMIT_DIGITS = 12
UNKNOWN_VERSION = "unknown"  # a site built without the project's pyproject.toml (a scratch site)


class VersionError(Exception):
    pass


@dataclass(frozen=True)
class BuildVersion:
    version: str  # "0.2.0"
    commit: str  # "1a2b3c4d5e6f", "1a2b3c4d5e6f+dirty" or UNKNOWN_COMMIT
    date: str  # the commit's date, ISO 8601 ("2026-11-28T00:22:00+00:00"); "" without git

    @property
    def day(self) -> str:
        return self.date[:10]

    @property
    def label(self) -> str:
        """"version 0.2.0, commit 1a2b3c4d5e6f of 2026-11-28", as the footer, the PDF and the citation say it."""
        commit = f"commit {self.commit}" if self.commit != UNKNOWN_COMMIT else self.commit
        return f"version {self.version}, {commit}" + (f" of {self.day}" if self.day else "")

    def as_json(self) -> str:
        return json.dumps({**asdict(self), "label": self.label}, indent=1) + "\n"


def build_version(root: Path) -> BuildVersion:
    return BuildVersion(project_version(root), *git_commit(root))


def project_version(root: Path) -> str:
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return UNKNOWN_VERSION
    try:
        return tomllib.loads(pyproject.read_text())["project"]["version"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise VersionError(f"{pyproject}: cannot read [project] version ({error})") from error


def git_commit(root: Path) -> tuple[str, str]:
    """(hash cut to COMMIT_DIGITS, maybe with "+dirty"; commit date), or (UNKNOWN_COMMIT, "") when `root` is not the top
    of a git checkout (a tarball unpacked inside some other repository must not take that one's commit)."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(root), *arguments], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != root.resolve():
            return UNKNOWN_COMMIT, ""
        commit, date = git("log", "-1", "--format=%H %cI").split()
        dirty = git("status", "--porcelain")  # changed, staged or new files, ignored ones (caches, site/) aside
    except (OSError, subprocess.CalledProcessError, ValueError):  # no git, no repository, or no commit yet
        return UNKNOWN_COMMIT, ""
    return commit[:COMMIT_DIGITS] + ("+dirty" if dirty else ""), date
