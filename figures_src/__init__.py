"""Experiments and figures of the site "Why are deep networks hard to train?".

Layout:
  model.py     the networks (one place for every architecture the site measures)
  measures.py  what is measured on them (tensors in, tensors out)
  theory.py    the infinite-width (mean-field) predictions
  theme.py     the chart theme shared by every figure (palette, fonts, controls)
  figure.py    how a figure is declared: id, parameters, experiment, chart
  figures/     one module per figure, each declaring `FIGURE`
  pipeline.py  compute with a cache, then export spec, CSV, SVG and manifest
  mkdocs_plugin/  the MkDocs glue that embeds figures and living numbers in pages
"""
