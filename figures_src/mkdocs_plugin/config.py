from mkdocs.config import config_options as c
from mkdocs.config.base import Config


class FiguresConfig(Config):
    # Where computed figure data is kept between builds, relative to mkdocs.yml.
    cache_dir = c.Type(str, default=".cache/figures")
    # The package whose modules each declare one FIGURE.
    package = c.Type(str, default="figures_src.figures")
    # Front-matter key holding a page's chapter number; figures are numbered "<chapter>.<n>".
    chapter_key = c.Type(str, default="chapter")
