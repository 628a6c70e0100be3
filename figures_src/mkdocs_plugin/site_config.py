"""A small MkDocs config that builds the real site (`mkdocs.yml`) from somewhere else.

The tests and the benchmark build the site into temporary folders, sometimes with another `site_url` or
figure cache. They write a config that INHERITs the real one; this module writes it, so both build the
same site.
"""

from pathlib import Path

import yaml

from figures_src.mkdocs_plugin.config import FiguresConfig

FIGURES_PLUGIN = "figures"
# Options of the figures plugin that name a file or folder relative to mkdocs.yml (see config.py).
# A new one must be listed here, or builds from a config elsewhere look for it in the wrong folder.
FIGURES_PATH_OPTIONS = ("cache_dir", "notebook_cache_dir", "bibliography", "pyproject")


def write_config(path: Path, root: Path, *, site_url: str | None = None, cache_dir: Path | None = None,
                 notebook_cache_dir: Path | None = None) -> Path:
    """Write at `path` a config that builds the site of `root/mkdocs.yml`, and return `path`.

    Paths read relative to the config file (docs_dir, theme.custom_dir, the figures plugin's caches and
    bibliography) are made absolute, so the config works from any folder. The figure cache is
    `cache_dir` and the executed-notebook cache `notebook_cache_dir` if given, else the ones mkdocs.yml
    names (the project's own caches: a config elsewhere must not silently start empty ones).
    """
    real = root / "mkdocs.yml"
    override = {
        "INHERIT": str(real),
        "docs_dir": str(root / "docs"),
        "theme": {"custom_dir": str(root / "overrides")},  # merged into the inherited theme
        "plugins": plugins_with_paths(read_plugins(real), root,
                                      {"cache_dir": cache_dir, "notebook_cache_dir": notebook_cache_dir}),
    }
    if site_url is not None:
        override["site_url"] = site_url
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(override, Dumper=_Dumper, sort_keys=False))
    return path


def site_extra(root: Path) -> dict:
    """The `extra` section of `root/mkdocs.yml`: where the pages link the PDF and the offline copy."""
    return yaml.load((root / "mkdocs.yml").read_text(), Loader=_Loader).get("extra") or {}


def site_url_of(root: Path) -> str | None:
    """`root/mkdocs.yml`'s site_url: where the site is published."""
    return yaml.load((root / "mkdocs.yml").read_text(), Loader=_Loader).get("site_url")


def read_plugins(config_file: Path) -> list:
    """The plugin list of a config, each entry a name or a one-key mapping {name: options}."""
    plugins = yaml.load(config_file.read_text(), Loader=_Loader).get("plugins") or []
    if isinstance(plugins, dict):  # MkDocs also accepts a mapping of name to options
        plugins = [{name: options} if options else name for name, options in plugins.items()]
    return plugins


def plugins_with_paths(plugins: list, root: Path, replace: dict[str, Path | None] | None = None) -> list:
    """The same plugins, in the same order, with absolute paths in the figures plugin's options, and
    the options in `replace` (those not None) set to the paths given.

    MkDocs merges an INHERIT config key by key but replaces lists whole: the override must repeat every
    plugin of mkdocs.yml, or the ones it leaves out (print-site, notebooks, …) silently vanish.
    """
    out = []
    for entry in plugins:
        name, options = (entry, {}) if isinstance(entry, str) else next(iter(entry.items()))
        if name == FIGURES_PLUGIN:
            options = dict(options or {})
            defaults = {key: option.default for key, option in FiguresConfig._schema}
            for key in FIGURES_PATH_OPTIONS:
                if key in options or key in defaults:  # tolerate an option not (or no longer) in config.py
                    options[key] = str(root / options.get(key, defaults.get(key)))
            options |= {key: str(path) for key, path in (replace or {}).items() if path is not None}
            entry = {name: options}
        out.append(entry)
    return out


class _Loader(yaml.SafeLoader):
    """Reads mkdocs.yml with MkDocs' own tags (!ENV, `!!python/name:` …) left unresolved, as _Tagged:
    MkDocs resolves them when it reads the config written here."""


class _Dumper(yaml.SafeDumper):
    pass


class _Tagged:
    """A tagged value, kept as its YAML node so it is written back exactly as mkdocs.yml has it."""

    def __init__(self, node: yaml.Node):
        self.node = node


_Loader.add_multi_constructor("", lambda loader, suffix, node: _Tagged(node))
_Dumper.add_representer(_Tagged, lambda dumper, value: value.node)
