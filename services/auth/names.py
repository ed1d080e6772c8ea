"""Validation of what users type: account names (shared by users and organizations, validated like
the Hub's namespaces), emails, passwords, token names and roles."""
from __future__ import annotations

import re

from hangar_common.errors import BadRequest

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,40}[A-Za-z0-9])?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
# Namespaces that collide with routes of the hub (DESIGN §3).
RESERVED = frozenset({
    "api", "models", "datasets", "spaces", "organizations", "organization", "org", "orgs", "settings",
    "users", "user", "auth", "login", "logout", "join", "register", "new", "docs", "blog", "pricing",
    "admin", "static", "assets", "health", "metrics", "search", "collections", "papers", "posts",
    "huggingface", "hangar", "git", "lfs", "oauth", "resolve", "buckets", "notifications",
})
TOKEN_ROLES = ("read", "write")
PASSWORD_MIN, PASSWORD_MAX = 8, 1024


def account_name(name: str, what: str = "username") -> str:
    if not _NAME.match(name or "") or "--" in name or ".." in name:
        raise BadRequest(f"Invalid {what}: use 1-42 letters, digits, '-', '_' or '.', starting and ending "
                         "with a letter or digit, without '--' or '..'", code="InvalidName")
    if name.lower() in RESERVED:
        raise BadRequest(f"The {what} '{name}' is reserved", code="InvalidName")
    return name


def email(value: str) -> str:
    if len(value or "") > 254 or not _EMAIL.match(value or ""):
        raise BadRequest("Invalid email address", code="InvalidEmail")
    return value


def password(value: str) -> str:
    if not PASSWORD_MIN <= len(value or "") <= PASSWORD_MAX:
        raise BadRequest(f"Password must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long",
                         code="InvalidPassword")
    return value


def token_name(value: str) -> str:
    value = (value or "").strip()
    if not 1 <= len(value) <= 100 or any(ord(c) < 32 for c in value):
        raise BadRequest("Token name must be 1 to 100 printable characters", code="InvalidName")
    return value


def token_role(value: str) -> str:
    if value not in TOKEN_ROLES:
        raise BadRequest("Token role must be 'read' or 'write'", code="InvalidRole")
    return value
