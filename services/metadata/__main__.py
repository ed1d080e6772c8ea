"""`python -m services.metadata` serves; `python -m services.metadata lakefs-reconcile [--dry-run]`
reports (and repairs) drift between the Hub's refs and lakeFS (the lakeFS engine)."""
import sys

from hangar_common.config import Settings

if len(sys.argv) > 1 and sys.argv[1] == "lakefs-reconcile":
    from .lakefs.cli import main

    sys.exit(main(sys.argv[2:]))
else:
    from hangar_common.service import serve

    from .app import build

    settings = Settings.from_env("metadata")
    serve(build(settings), settings)
