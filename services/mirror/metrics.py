"""Prometheus counters of the mirror (served on the service's /metrics)."""
from prometheus_client import Counter

HITS = Counter("hangar_mirror_hits_total", "Reads answered from what the mirror holds", ["kind"])
MISSES = Counter("hangar_mirror_misses_total", "Reads that needed the upstream", ["kind"])
UPSTREAM_BYTES = Counter("hangar_mirror_upstream_bytes_total", "Bytes downloaded from the upstream")
ERRORS = Counter("hangar_mirror_errors_total", "Upstream failures and refused upstream answers", ["reason"])
