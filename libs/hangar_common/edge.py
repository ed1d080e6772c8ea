"""What every HTTP service of the hub says the same way at its edge: the repository types and
how URLs spell them (`/datasets/...`, `/api/models/...`), and the hub's public origin for the
absolute URLs it hands out."""
from __future__ import annotations

from .config import Settings

# --- repository types --------------------------------------------------------------------------

REPO_TYPES = ("model", "dataset", "space")
# `/api/{plural}/...` of the REST API
TYPE_OF_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}
# the path prefix of pages, git and LFS URLs: `/{ns}/{name}` is a model, `/datasets/{ns}/{name}` ...
TYPE_OF_PREFIX = {"": "model", "datasets": "dataset", "spaces": "space"}


def plural(repo_type: str) -> str:
    """`models`, `datasets`, `spaces`: the segment of `/api/{plural}/{id}`."""
    return f"{repo_type}s"


def url_prefix(repo_type: str) -> str:
    """`""` for models, `datasets/` and `spaces/` otherwise: `{origin}/{url_prefix}{ns}/{name}`."""
    return "" if repo_type == "model" else f"{repo_type}s/"


# --- the public origin -------------------------------------------------------------------------

def public_origin(request, settings: Settings) -> str:
    """The hub's external origin for the absolute URLs it hands out (create's `url`, `commitUrl`,
    `Link`, LFS hrefs, Xet's `casUrl`), never an internal address: HANGAR_PUBLIC_URL when it is set,
    otherwise the origin Traefik saw (`X-Forwarded-Proto`/`-Host`/`-Prefix`), otherwise the request's
    own `Host`."""
    if settings.public_url_configured:
        return settings.public_url
    headers = request.headers
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host", "")
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
    return f"{proto}://{host}{prefix}" if host else str(request.base_url).rstrip("/")
