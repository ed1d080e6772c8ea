"""git's path rules for everything that lands in a tree, whatever the route (API paths, copies,
pushed trees, merges): what `git fsck` (fsck.c, fsck-msgids) and `verify_path` refuse, so clients
with `transfer.fsckObjects` can fetch every repository and Windows and macOS users can check it out.

Names (one tree entry, or one segment of an API path):
- empty, `.`, `..`, `/`, NUL, a backslash, control characters, more than 255 bytes;
- `.git` in any spelling a file system maps onto it: case-insensitive; NTFS (trailing dots and
  spaces, the 8.3 short name `git~1`, alternate data streams `.git::$INDEX_ALLOCATION`); HFS+
  (code points HFS+ ignores, such as U+200C, anywhere in the name) -- path.c is_ntfs_dotgit,
  utf8.c is_hfs_dotgit;
- `.gitmodules`, `.gitattributes`, `.gitignore` and `.mailmap` (with their NTFS and HFS+ aliases)
  as symbolic links (fsck gitmodulesSymlink, verify_path since git 2.32).

Trees: well-formed (dulwich's strict check: modes, zero padding, git order), no name twice (a file
and a directory of one name included), and no two names that differ only by Unicode normalization
(NFC vs NFD: they are one file on macOS and in most tools). Names keep the bytes they were given,
as on the Hub; only such collisions are refused.

Symbolic links may point inside the repository; a target that is absolute, climbs above the
repository's root, or names `.git` is refused. Links inside the tree are ordinary git content and
stay within the checkout; a link out of the tree would make a checkout refer to the cloning user's
own files (`~/.ssh/...`, `/etc/...`), which tools that follow links read or overwrite, and a link into
`.git` is what git itself warns about (symlinkPointsToGitDir).

`.gitmodules` (any alias, any depth): parseable and at most 1 MiB; submodule names without `..`
components; `path` neither starting with `-` nor leaving the tree; `url` not starting with `-`,
no command-running transports (`ext::`, `fd::`), no newline once percent-decoded, no empty or
option-like host; `update` not a `!command` (fsck gitmodulesName/Path/Url/Update).
"""
from __future__ import annotations

import io
import re
import unicodedata
from urllib.parse import unquote_to_bytes

from dulwich.config import ConfigFile
from dulwich.objects import ObjectFormatException, ShaFile

from . import gitformat as gf

MAX_SEGMENT_BYTES = 255
MAX_LINK_TARGET = 4096            # git: symlinkTargetLength (PATH_MAX)
MAX_GITMODULES = 1024 * 1024
# Code points HFS+ ignores when it compares names (utf8.c next_hfs_char).
_HFS_IGNORED = frozenset([0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x206A, 0x2070), 0xFEFF])
# The dot files git treats specially, with the first six characters of their NTFS 8.3 fallback name.
DOTFILES = {"gitmodules": b"gi7eba", "gitattributes": b"gi7d29", "gitignore": b"gi250a", "mailmap": b"maba30"}
_DRIVE = re.compile(rb"^[A-Za-z]:")
_COMMAND_TRANSPORT = re.compile(r"^(ext|fd)::", re.IGNORECASE)


# --- names ------------------------------------------------------------------------------------------

def _hfs_equals(name: bytes, needle: str) -> bool:
    """HFS+ sees `name` as `.<needle>` (ASCII case folded, ignorable code points dropped)."""
    try:
        chars = [c for c in name.decode("utf-8") if ord(c) not in _HFS_IGNORED]
    except UnicodeDecodeError:
        return False      # malformed UTF-8 can never be read as the needle
    return (len(chars) == len(needle) + 1 and chars[0] == "."
            and all(ord(c) < 128 and c.lower() == n for c, n in zip(chars[1:], needle)))


def _dots_and_spaces_then_end(rest: bytes, *, stream_or_sep: bytes) -> bool:
    for c in rest:
        if c in stream_or_sep:
            return True
        if c not in b". ":
            return False
    return True


def _ntfs_dotgit(name: bytes) -> bool:
    """NTFS sees `name` as `.git`: `.git` or `git~1` (any case), then only dots and spaces, up to
    the end, a separator or an alternate data stream (`:`)."""
    low = name.lower()
    for prefix in (b".git", b"git~1"):
        if low.startswith(prefix):
            return _dots_and_spaces_then_end(name[len(prefix):], stream_or_sep=b"\\/:")
    return False


def _ntfs_dotfile(name: bytes, needle: str, short: bytes) -> bool:
    """NTFS sees `name` as `.<needle>`: the long name, its 8.3 name (`gitmod~1`..`~4`) or the
    hashed fallback 8.3 name (`gi7eba~1`), then only dots and spaces (path.c is_ntfs_dot_generic)."""
    low, word = name.lower(), needle.encode()
    if low.startswith(b"." + word):
        return _dots_and_spaces_then_end(name[len(word) + 1:], stream_or_sep=b":")
    if low[:6] == word[:6] and low[6:7] == b"~" and low[7:8] in (b"1", b"2", b"3", b"4"):
        return _dots_and_spaces_then_end(name[8:], stream_or_sep=b":")
    i, saw_tilde = 0, False
    while i < 8:
        if i >= len(low):
            return False
        c = low[i]
        if saw_tilde:
            if not 0x30 <= c <= 0x39:
                return False
        elif c == 0x7E:                       # '~' then a digit 1-9
            i += 1
            if i >= len(low) or not 0x31 <= low[i] <= 0x39:
                return False
            saw_tilde = True
        elif i >= 6 or c & 0x80 or c != short[i]:
            return False
        i += 1
    return _dots_and_spaces_then_end(name[8:], stream_or_sep=b":")


def is_dotgit(name: bytes) -> bool:
    return _ntfs_dotgit(name) or _hfs_equals(name, "git")


def is_dotfile(name: bytes, which: str) -> bool:
    """`name` is `.gitmodules` (or another of DOTFILES) for some file system."""
    return _ntfs_dotfile(name, which, DOTFILES[which]) or _hfs_equals(name, which)


def name_problem(name: bytes, mode: int = gf.FILE_MODE) -> str | None:
    """Why `name` may not be a tree entry (or API path segment) of this mode, or None."""
    if not name:
        return "empty path segment"
    if name in (b".", b".."):
        return "'.' and '..' segments are not allowed"
    if b"/" in name or b"\x00" in name:
        return "contains '/' or NUL"
    if b"\\" in name:
        return "contains a backslash"
    if any(c < 0x20 or c == 0x7F for c in name):
        return "contains a control character"
    if len(name) > MAX_SEGMENT_BYTES:
        return f"a segment is longer than {MAX_SEGMENT_BYTES} bytes"
    if is_dotgit(name):
        return "'.git' is reserved (in any case, and in its NTFS and HFS+ spellings)"
    if mode & 0o170000 == gf.LINK_MODE:
        for which in DOTFILES:
            if is_dotfile(name, which):
                return f"'.{which}' cannot be a symbolic link"
    return None


def normalization_key(name: bytes) -> bytes:
    """Names with equal keys are one name to macOS and most tools (Unicode NFC)."""
    if name.isascii():
        return name
    return unicodedata.normalize("NFC", name.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


# --- trees ------------------------------------------------------------------------------------------

def tree_problem(data: bytes) -> str | None:
    """Why the raw tree `data` may not be part of a commit, or None (git fsck's tree checks)."""
    names: set[bytes] = set()
    keys: dict[bytes, bytes] = {}
    try:
        items = gf.parse_tree(data)
    except Exception as exc:  # noqa: BLE001 - dulwich's C parser raises several types
        return f"malformed tree: {exc}"
    for item in items:
        problem = name_problem(item.name, item.mode)
        if problem:
            return f"'{item.text}': {problem}"
        if item.name in names:
            return f"'{item.text}' appears twice"
        names.add(item.name)
        other = keys.setdefault(normalization_key(item.name), item.name)
        if other != item.name:
            return (f"'{item.text}' and '{other.decode('utf-8', 'replace')}' differ only by Unicode "
                    "normalization (NFC/NFD)")
    try:
        ShaFile.from_raw_string(gf.TREE, data).check()
    except ObjectFormatException as exc:
        return f"malformed tree: {exc}"
    return None


def object_problem(type_num: int, data: bytes) -> str | None:
    """Well-formedness of a commit or tag as dulwich checks it (headers, ids, identities, dates)."""
    try:
        ShaFile.from_raw_string(type_num, data).check()
    except (ObjectFormatException, ValueError) as exc:
        return f"malformed {gf.TYPE_NAMES[type_num]}: {exc}"
    return None


# --- symbolic links and .gitmodules ---------------------------------------------------------------

def link_problem(path: str, target: bytes) -> str | None:
    """Why a symbolic link at `path` (repository-relative) may not point at `target`, or None."""
    if not target:
        return "a symbolic link needs a target"
    if len(target) > MAX_LINK_TARGET:
        return f"a symbolic link target is longer than {MAX_LINK_TARGET} bytes"
    target = target.replace(b"\\", b"/")       # a separator on Windows
    if target.startswith(b"/") or _DRIVE.match(target):
        return "a symbolic link may not point to an absolute path"
    level = path.count("/")                     # directories between the link and the root
    for part in target.split(b"/"):
        if part in (b"", b"."):
            continue
        if part == b"..":
            level -= 1
            if level < 0:
                return "a symbolic link may not point outside the repository"
            continue
        if is_dotgit(part):
            return "a symbolic link may not point into '.git'"
        level += 1
    return None


def _escapes(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return path.startswith(("/", "\\")) or bool(_DRIVE.match(path.encode())) or ".." in parts or any(
        is_dotgit(p.encode()) for p in parts)


def _url_problem(url: str) -> str | None:
    if url.startswith("-"):
        return "url may not start with '-'"
    if _COMMAND_TRANSPORT.match(url):
        return "url may not use a command-running transport (ext::, fd::)"
    if b"\n" in unquote_to_bytes(url):
        return "url may not contain a newline"
    scheme, sep, rest = url.partition("://")
    if sep and re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        if not host or host.startswith("-"):
            return "url has an empty or option-like host"
    return None


def gitmodules_problem(data: bytes) -> str | None:
    """Why `data` may not be a `.gitmodules` file, or None."""
    if len(data) > MAX_GITMODULES:
        return f".gitmodules is larger than {MAX_GITMODULES} bytes"
    try:
        config = ConfigFile.from_file(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - dulwich raises ValueError and friends for bad syntax
        return f".gitmodules cannot be parsed: {exc}"
    for section in config.sections():
        if len(section) != 2 or section[0].lower() != b"submodule":
            continue
        name = section[1].decode("utf-8", "replace")
        if not name or ".." in re.split(r"[/\\]", name):
            return f"submodule name '{name}' is not allowed"
        values = {key.lower(): value.decode("utf-8", "replace") for key, value in config.items(section)}
        path, url, update = values.get(b"path"), values.get(b"url"), values.get(b"update")
        if path is not None and (path.startswith("-") or _escapes(path)):
            return f"submodule '{name}': path '{path}' is not allowed"
        problem = _url_problem(url) if url is not None else None
        if problem:
            return f"submodule '{name}': {problem}"
        if update is not None and update.lstrip().startswith("!"):
            return f"submodule '{name}': update may not run a command"
    return None
