"""Identity tests drive huggingface_hub in-process: plain LFS is their path (docs/clients.md "Xet"), and
huggingface_hub reads HF_HUB_DISABLE_XET once, at import, before the stack fixture sets it."""
from __future__ import annotations

import os

from huggingface_hub import constants

os.environ["HF_HUB_DISABLE_XET"] = "1"
constants.HF_HUB_DISABLE_XET = True
