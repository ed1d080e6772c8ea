"""`POST /api/validate-yaml` ({content, repoType}): checks the YAML front matter of a README.

huggingface_hub calls it before every commit that touches README.md and parses the JSON body
before looking at the status (`HfApi._validate_yaml`), so every answer, even to a malformed
request, is JSON `{"errors": [{"message"}], "warnings": [{"message"}]}`; errors make it a 400.
"""
from __future__ import annotations

import re

import orjson
import yaml
from fastapi import APIRouter, Request

from hangar_common import errors as hangar_errors
from hangar_common.http import header_safe

from ..bodies import read_limited
from ..shapes import JSON

router = APIRouter()

MAX_CONTENT = 1024 * 1024
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*$", re.S | re.M)
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
_STRING_OR_LIST = ("license", "language", "datasets", "metrics", "base_model", "tags",
                   "task_categories", "task_ids", "size_categories")
_STRINGS = ("pipeline_tag", "library_name", "pretty_name", "title", "emoji", "app_file", "thumbnail")


def _answer(errors: list[str], warnings: list[str]):
    body = {"errors": [{"message": m} for m in errors], "warnings": [{"message": m} for m in warnings]}
    headers = {}
    if errors:
        headers = {"X-Error-Code": "InvalidMetadata", "X-Error-Message": header_safe(errors[0], 300)}
    return JSON(body, status_code=400 if errors else 200, headers=headers)


async def _request_fields(request: Request) -> tuple[str, str] | str:
    try:
        raw = await read_limited(request, MAX_CONTENT + 64 * 1024)
        body = orjson.loads(raw)
    except (hangar_errors.PayloadTooLarge, orjson.JSONDecodeError):
        return "Request body must be a JSON object of at most 1 MiB"
    if not isinstance(body, dict) or not isinstance(body.get("content"), str):
        return "Request body must be a JSON object with a string 'content'"
    repo_type = body.get("repoType") or "model"
    if repo_type not in ("model", "dataset", "space"):
        return f"Invalid repoType '{repo_type}'"
    return body["content"], repo_type


@router.post("/api/validate-yaml")
async def validate_yaml(request: Request):
    fields = await _request_fields(request)
    if isinstance(fields, str):
        return _answer([fields], [])
    content, repo_type = fields
    match = _FRONT_MATTER.match(content)
    if not match:
        return _answer([], [])
    try:
        metadata = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        return _answer([f"Invalid YAML in README.md front matter: {exc}"], [])
    if metadata is None:
        return _answer([], ["Empty YAML metadata in README.md front matter"])
    if not isinstance(metadata, dict):
        return _answer(["README.md front matter must be a YAML mapping (key: value)"], [])
    return _answer(metadata_problems(metadata, repo_type), [])


def metadata_problems(metadata: dict, repo_type: str) -> list[str]:
    """Basic type checks of well-known card fields (the Hub's full schema is much larger)."""
    problems = []
    for key in _STRING_OR_LIST:
        value = metadata.get(key)
        if value is not None and not _string_or_strings(value):
            problems.append(f"'{key}' must be a string or a list of strings")
    for key in _STRINGS:
        value = metadata.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(f"'{key}' must be a string")
    if repo_type == "space" and "sdk" in metadata and metadata["sdk"] not in SPACE_SDKS:
        problems.append(f"'sdk' must be one of {', '.join(SPACE_SDKS)}")
    configs = metadata.get("configs")
    if configs is not None and (not isinstance(configs, list) or
                                not all(isinstance(c, dict) and isinstance(c.get("config_name"), str)
                                        for c in configs)):
        problems.append("'configs' must be a list of mappings, each with a 'config_name'")
    return problems


def _string_or_strings(value) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
