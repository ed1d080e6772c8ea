"""Operator commands (no default credentials exist: the first admin comes from here).

    python -m services.auth create-admin NAME [--email EMAIL]

Reads the same HANGAR_* environment as the service (database, secret key), applies migrations,
creates the user NAME as a site admin (or promotes an existing user), and prints a new write access
token for it on stdout. The account gets no password; set one later if wanted.
"""
from __future__ import annotations

import argparse
import asyncio
import sys

from sqlalchemy import text

from hangar_common.config import Settings
from hangar_common.errors import HangarError
from hangar_common.runtime import Resources

from . import accounts, names, tokens
from .app import MIGRATIONS, SCHEMA
from .credentials import digest, new_access_token


async def create_admin(settings: Settings, name: str, email: str) -> str:
    resources = Resources(settings)
    try:
        await resources.open_database(SCHEMA, MIGRATIONS)
        async with resources.engine.begin() as conn:
            user = await accounts.get_user_by_name(conn, name)
            if user is None:
                user = await accounts.create_user(conn, username=names.account_name(name),
                                                  email=names.email(email or f"{name}@localhost.invalid"),
                                                  password_hash=None, is_site_admin=True)
            else:
                await conn.execute(text("UPDATE accounts SET is_site_admin = TRUE WHERE id = :id"), {"id": user.id})
            token = new_access_token()
            await tokens.insert(conn, user_id=user.id, name="create-admin", role="write",
                                digest=digest(settings.secret_key, token))
        return token
    finally:
        await resources.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create (or promote) a site admin and print a token")
    admin.add_argument("name")
    admin.add_argument("--email", default="")
    args = parser.parse_args(argv)
    settings = Settings.from_env("auth")
    if not settings.secret_key_configured:
        print("HANGAR_SECRET_KEY must be set to the service's key (tokens are HMACed with it)", file=sys.stderr)
        return 2
    try:
        token = asyncio.run(create_admin(settings, args.name, args.email))
    except HangarError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"site admin {args.name} ready; its write access token (shown once):", file=sys.stderr)
    print(token)
    return 0
