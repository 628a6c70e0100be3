from mkdocs.config import config_options as c
from mkdocs.config.base import Config


class FiguresConfig(Config):
    # Where computed figure data is kept between builds, relative to mkdocs.yml.
    cache_dir = c.Type(str, default=".cache/figures")
    # The package whose modules each declare one FIGURE.
    package = c.Type(str, default="figures_src.figures")
    # Front-matter key holding a page's chapter number; figures are numbered "<chapter>.<n>".
    chapter_key = c.Type(str, default="chapter")
    # The BibTeX file citations resolve against, relative to mkdocs.yml.
    bibliography = c.Type(str, default="docs/references.bib")
    # The page listing every cited work; pages without their own list link there.
    references_page = c.Type(str, default="references.md")
    # The page listing every claimed sentence with its check ({{ claims: ledger }}).
    claims_page = c.Type(str, default="claims.md")
    # Companion notebooks: jupytext sources in this folder of docs/, executed at build time.
    notebooks_dir = c.Type(str, default="notebooks")
    notebook_cache_dir = c.Type(str, default=".cache/notebooks")
    # Where the code lives (the notebooks' install cell) and the branch the built site is published from
    # (Colab opens the executed notebooks there).
    repository = c.Type(str, default="")
    published_branch = c.Type(str, default="gh-pages")
    # The project's pyproject.toml, relative to mkdocs.yml: its version, and the git checkout around it, are
    # stamped on every page, the PDFs and the citation (version.py).
    pyproject = c.Type(str, default="pyproject.toml")
