"""Claims: the manifest, statistics with intervals, verdicts and figures."""
