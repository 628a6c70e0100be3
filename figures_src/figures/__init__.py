"""One module per figure; the module name is the figure id with '_' for '-'."""
