"""Card data: the YAML front matter of README.md at the default branch, as JSON (cached by blob id)."""
from __future__ import annotations

import json
from datetime import date, datetime

import yaml

from . import trees
from .cache import LRU, weigh_text
from .engine import Engine

_CARDS: LRU[str, str] = LRU(16 * 1024 * 1024, weigh_text)   # README blob id -> card JSON
MAX_README = 1024 * 1024


def front_matter(text: str) -> str:
    """The front matter between the leading `---` lines as JSON ("" if none or not a mapping). Blank
    lines may precede it, as the Hub and huggingface_hub's RepoCard accept."""
    lines = text.lstrip("\ufeff").lstrip().splitlines()
    if not lines or lines[0].strip() != "---":
        return ""
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        data = yaml.safe_load("\n".join(lines[1:end]))
    except (StopIteration, yaml.YAMLError):
        return ""
    if not isinstance(data, dict):
        return ""
    return json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, (date, datetime)) else str(v))


async def card_data_json(engine: Engine, tree: str | None) -> str:
    if not tree:
        return ""
    entry = await trees.lookup(engine.store, tree, "README.md")
    if entry is None or entry.is_dir:
        return ""
    cached = _CARDS.get(entry.oid)
    if cached is None:
        data = await engine.store.read_range(entry.oid, 0, MAX_README)
        cached = front_matter(data.decode("utf-8", "replace"))
        _CARDS.put(entry.oid, cached)
    return cached
