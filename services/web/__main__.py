from hangar_common.config import Settings
from hangar_common.service import serve

from .app import build

settings = Settings.from_env("web")
serve(build(settings), settings)
