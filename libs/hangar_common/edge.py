"""What every HTTP service of the hub says the same way at its edge (docs/architecture.md "The edge").

- the repository types and how URLs spell them (`/datasets/...`, `/api/models/...`);
- the hub's public origin for the absolute URLs it hands out (docs/clients.md "Identifiers and URLs");
- the one rule that turns an authorization decision (auth's `Authorize`) into the error a client
  sees (docs/clients.md "Errors"): a repository the caller may not see looks exactly like a missing
  one (`RepoNotFound`, 401 for an anonymous caller and 404 for a signed-in one); a visible one the
  caller may not use is 403 (`Forbidden`, `GatedRepo`), or 401 `Unauthorized` for an anonymous
  caller where signing in would help.

The rule is the same on every surface; a `Surface` only says how that surface words its 401s: git and
git-lfs send credentials only after a 401 carrying `WWW-Authenticate` (gitcredentials(7)), so on their
paths every refusal of an anonymous caller is that challenge.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import errors
from .config import Settings

# --- repository types --------------------------------------------------------------------------

REPO_TYPES = ("model", "dataset", "space")
# `/api/{plural}/...` of the REST API
TYPE_OF_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}
# the path prefix of pages, git and LFS URLs: `/datasets/{ns}/{name}`, `/spaces/...`; models have none
TYPE_OF_PREFIX = {"datasets": "dataset", "spaces": "space"}


def plural(repo_type: str) -> str:
    """`models`, `datasets`, `spaces`: the segment of `/api/{plural}/{id}`."""
    return f"{repo_type}s"


def url_prefix(repo_type: str) -> str:
    """`datasets/` and `spaces/`, `""` for models: `{origin}/{url_prefix}{ns}/{name}`."""
    return _PREFIX_OF_TYPE.get(repo_type, "")


def type_of_prefix(prefix: str | None) -> str:
    """The type a URL's first segment names (`datasets`, `spaces`); no prefix is a model."""
    return TYPE_OF_PREFIX[prefix] if prefix else "model"


_PREFIX_OF_TYPE = {kind: f"{prefix}/" for prefix, kind in TYPE_OF_PREFIX.items()}


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


# --- the access rule ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Surface:
    """How one HTTP surface words the 401s of the rule (the rule itself is `refusal`)."""
    challenge: Mapping[str, str] = field(default_factory=dict)   # headers on every 401 it sends
    challenge_anonymous: bool = False    # every refusal of an anonymous caller is a 401 challenge
    hidden_message: str = "Repository not found"   # what an anonymous caller reads for a hidden repo


_BASIC = 'Basic realm="Hangar"'
API = Surface()                                           # the REST API and the pages
GIT = Surface({"WWW-Authenticate": _BASIC}, challenge_anonymous=True)
LFS = Surface({"WWW-Authenticate": _BASIC, "LFS-Authenticate": _BASIC}, challenge_anonymous=True,
              hidden_message="Repository not found or authentication required")
XET = Surface({"WWW-Authenticate": 'Bearer realm="Hangar"'})    # xet-read-token / xet-write-token

# What auth answers for a repository the caller can see but may not use this way; any other code
# (RepoNotFound: private and not the caller's, or missing) hides the repository.
VISIBLE_REFUSALS = {"Forbidden": "You do not have write access to this repository",
                    "GatedRepo": "Access to this repository is restricted",
                    "Unauthorized": "You must be authenticated to do this"}


def refusal(principal, code: str, message: str = "", surface: Surface = API) -> errors.HangarError:
    """The error a client sees when auth refused it (`code` and `message` of the decision) or the
    repository was not found (`RepoNotFound`). `principal` None is an anonymous caller."""
    anonymous = principal is None or principal.anonymous
    if code not in VISIBLE_REFUSALS:
        if anonymous:
            return errors.RepoNotFound(surface.hidden_message, status=401, headers=dict(surface.challenge))
        return errors.RepoNotFound("Repository not found")
    if code == "Unauthorized" or (anonymous and surface.challenge_anonymous):
        return errors.Unauthorized(message or VISIBLE_REFUSALS["Unauthorized"], headers=dict(surface.challenge))
    return errors.Forbidden(message or VISIBLE_REFUSALS[code], code=code)


def enforce(principal, decision, surface: Surface = API) -> None:
    """Raise the rule's error unless auth's `decision` (an AuthorizeResponse) allows the request."""
    if not decision.allowed:
        raise refusal(principal, decision.error_code, decision.message, surface)


def unauthenticated(message: str, surface: Surface = API) -> errors.HangarError:
    """Credentials that do not authenticate (a bad or revoked token): 401, never anonymous."""
    return errors.Unauthorized(message, headers=dict(surface.challenge))
