"""Experiments and figures of the site "Why are deep networks hard to train?".

Layout:
  model.py     the networks (one place for every architecture the site measures)
  measures.py  what is measured on them (tensors in, tensors out)
  theory.py    the infinite-width (mean-field) predictions
  experiments.py  the runs several figures share (chapter 4's networks), cached on disk by content
  theme.py     the chart theme shared by every figure (palette, fonts, Vega config)
  charts.py    chart pieces several figures share (layer slider, encodings, dot plots)
  figure.py    how a figure is declared: id, parameters, experiment, chart
  figures/     one module per figure, each declaring `FIGURE`; none imports another
  pipeline.py  compute with a cache, then export spec, CSV, SVG and manifest
  mkdocs_plugin/  the MkDocs glue that embeds figures and living numbers in pages
"""
