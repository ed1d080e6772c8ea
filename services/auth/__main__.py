import sys

if len(sys.argv) > 1:
    from .cli import main

    sys.exit(main(sys.argv[1:]))

from hangar_common.config import Settings  # noqa: E402
from hangar_common.service import serve  # noqa: E402

from .app import build  # noqa: E402

settings = Settings.from_env("auth")
serve(build(settings), settings)
