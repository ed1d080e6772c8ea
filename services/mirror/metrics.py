"""Prometheus counters of the mirror (served on the service's /metrics)."""
from prometheus_client import Counter, Gauge

HITS = Counter("hangar_mirror_hits_total", "Reads answered from what the mirror holds", ["kind"])
MISSES = Counter("hangar_mirror_misses_total", "Reads that needed the upstream", ["kind"])
UPSTREAM_BYTES = Counter("hangar_mirror_upstream_bytes_total", "Bytes downloaded from the upstream")
ERRORS = Counter("hangar_mirror_errors_total", "Upstream failures and refused upstream answers", ["reason"])
EVICTIONS = Counter("hangar_mirror_evictions_total", "Cached LFS objects evicted under HANGAR_MIRROR_CACHE_MAX_BYTES")
EVICTED_BYTES = Counter("hangar_mirror_evicted_bytes_total", "Bytes of the cached LFS objects evicted")
CACHE_BYTES = Gauge("hangar_mirror_cache_bytes", "Bytes of cached (not imported) LFS objects the mirror holds")
# Downloads under way, counting each until its bytes are stored in lfs, recorded and the cache bound
# applied (a client has its last byte once the hash checked, a moment before that).
IN_FLIGHT = Gauge("hangar_mirror_objects_in_flight", "LFS objects being fetched from the upstream or stored")
