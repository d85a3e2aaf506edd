"""The parts the `benchmark` command measures, one module each: the recompute, the import,
the import-to-fresh latency and the pages. Each returns its figures as a dict."""
