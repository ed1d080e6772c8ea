"""Page routes, grouped by what they show. Order matters: the catch-all repo and account pages of
`repo.py` come last."""
from . import accounts, browse, orgs, repo, write

ROUTERS = [browse.router, accounts.router, orgs.router, write.router, repo.router]
