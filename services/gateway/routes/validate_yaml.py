"""`POST /api/validate-yaml` ({content, repoType}): checks the YAML front matter of a README.

huggingface_hub calls it before every commit that touches README.md and parses the JSON body
before looking at the status (`HfApi._validate_yaml`), so every answer, even to a malformed
request, is JSON `{"errors": [{"message"}], "warnings": [{"message"}]}`; errors make it a 400. A card
without metadata is valid with a warning, as on the Hub.
"""
from __future__ import annotations

import re

import orjson
import yaml
from fastapi import APIRouter, Request

from hangar_common import edge
from hangar_common import errors as hangar_errors
from hangar_common.http import header_safe

from ..bodies import read_limited
from ..licenses import LICENSES
from ..shapes import JSON

router = APIRouter()

MAX_CONTENT = 1024 * 1024
# Front matter may follow blank lines (huggingface_hub's RepoCard finds it after leading whitespace).
_FRONT_MATTER = re.compile(r"\A\ufeff?\s*?^---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*$", re.S | re.M)
NO_METADATA = "Empty or missing yaml metadata in repo card"
SPACE_SDKS = ("gradio", "streamlit", "docker", "static")
_STRING_OR_LIST = ("language", "datasets", "metrics", "base_model", "tags",
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
    if repo_type not in edge.REPO_TYPES:
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
        return _answer([], [NO_METADATA])
    try:
        metadata = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        return _answer([f"Invalid YAML in README.md front matter: {exc}"], [])
    if metadata is None:
        return _answer([], [NO_METADATA])
    if not isinstance(metadata, dict):
        return _answer(["README.md front matter must be a YAML mapping (key: value)"], [])
    return _answer(metadata_problems(metadata, repo_type), metadata_warnings(metadata))


def metadata_problems(metadata: dict, repo_type: str) -> list[str]:
    """Type checks of well-known card fields (the Hub's full schema is much larger), `license` against
    the Hub's identifiers, `model-index` a list of mappings."""
    problems = _license_problems(metadata.get("license"))
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
    model_index = metadata.get("model-index")
    if model_index is not None and not (isinstance(model_index, list)
                                        and all(isinstance(m, dict) for m in model_index)):
        problems.append("'model-index' must be an array of mappings (each with 'name' and 'results')")
    return problems


def _license_problems(value) -> list[str]:
    if value is None:
        return []
    if not _string_or_strings(value):
        return ["'license' must be a string or a list of strings"]
    unknown = [v for v in ([value] if isinstance(value, str) else value) if v not in LICENSES]
    if unknown:
        return [f"'license' must be one of the Hub's license identifiers (or 'other' with a 'license_name'); "
                f"unknown: {', '.join(repr(u)[:80] for u in unknown[:5])}"]
    return []


def metadata_warnings(metadata: dict) -> list[str]:
    licenses = metadata.get("license")
    if (licenses == "other" or (isinstance(licenses, list) and "other" in licenses)) \
            and not isinstance(metadata.get("license_name"), str):
        return ["license is 'other': name it in 'license_name' (and put its text in a LICENSE file)"]
    return []


def _string_or_strings(value) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, list) and all(isinstance(v, str) for v in value)
