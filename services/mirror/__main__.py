"""`python -m services.mirror` serves the upstream mirror (gRPC for the other services, HTTP health/metrics)."""
from hangar_common.config import Settings
from hangar_common.service import serve

from .app import build

settings = Settings.from_env("mirror")
serve(build(settings), settings)
