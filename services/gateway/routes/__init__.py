"""Route modules of the gateway, grouped by resource. `ROUTERS` is what app.py mounts."""
from __future__ import annotations

ROUTERS: list = []

from . import auth as _auth  # noqa: E402
ROUTERS.append(_auth.router)
from . import orgs as _orgs, accounts as _accounts, access_requests as _access  # noqa: E402
ROUTERS += [_orgs.router, _accounts.router, _access.router]

from . import validate_yaml, repos, repo_info, tree, preupload, commit, refs, commits, resolve  # noqa: E402
ROUTERS += [m.router for m in (validate_yaml, repos, repo_info, tree, preupload, commit, refs, commits, resolve)]

from . import storage, lfs_files  # noqa: E402
ROUTERS += [storage.router, lfs_files.router]
from . import imports  # noqa: E402  (after storage: /api/{namespace}/storage of a user named "imports")
ROUTERS.append(imports.router)

from . import webhooks  # noqa: E402
ROUTERS.append(webhooks.router)
from . import likes  # noqa: E402
ROUTERS.append(likes.router)
from . import collections  # noqa: E402
ROUTERS.append(collections.router)
from . import discussions  # noqa: E402
ROUTERS.append(discussions.router)
from . import fallback  # noqa: E402  (last: it answers repo URLs no route above matched)
ROUTERS.append(fallback.router)
