"""The instance folder's signing key: made once, kept beside the database (mode 0600), never read
half-written, even after kill -9 or a power cut."""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from webapp.disk import flush
from webapp.records import SettingsError

STALE_AFTER = 60  # seconds: a file is written aside in a moment; an older one was left by a crash
KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32), the instance key


def instance_secret(path: Path) -> str:
    """A signing key kept beside the database, made once, so callback URLs survive restarts."""
    try:
        _clear_stale(path)
        if not path.exists():
            _write_once(path, secrets.token_urlsafe(32))
        key = path.read_text().strip()
        mode = path.stat()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read or make the key {path}: {exc}") from None
    if mode.st_uid != os.getuid() or mode.st_mode & 0o077:  # planted, or open to others
        raise SettingsError(
            f"{path} must belong to this user and be readable by it only (chmod 600), or set "
            "SECRET_KEY"
        )
    if not KEY.fullmatch(key):  # as _write_once wrote it: an edit or a broken disk otherwise
        raise SettingsError(
            f"{path} is damaged (not the key this app made): restore it from a backup, or "
            "delete it to make a new key (callbacks of work already sent to Astria are then "
            "refused), or set SECRET_KEY"
        )
    return key


def _write_once(path: Path, text: str) -> None:
    """Give `path` this content unless it exists, so that nobody ever reads it half-written,
    even after kill -9 or a power cut: written aside readable by its owner only, flushed to
    disk, then linked into place (of several processes starting at once, the first link wins
    and all read that one) and the folder flushed."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        flush(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _clear_stale(path: Path) -> None:
    """Remove what a process killed while writing `path` left aside (see _write_once)."""
    now = time.time()
    aside = re.compile(rf"\.{re.escape(path.name)}\.\d+\.[0-9a-f]{{8}}")  # as _write_once names it
    for left in path.parent.iterdir():
        try:
            if aside.fullmatch(left.name) and now - left.stat().st_mtime > STALE_AFTER:
                left.unlink()
        except FileNotFoundError:  # another process removed it first
            pass
