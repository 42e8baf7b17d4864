"""Clusters, luigid, the visualiser and the report in Chromium, the benchmark, docker/ and the wheel."""
