"""SQLite files: connections (WAL, one per thread), write transactions, numbered migrations."""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from webapp.disk import flush
from webapp.records import StoreError


def create_file(path: str) -> None:
    """Make a new database file readable by its owner only (SQLite gives its -wal and -shm the
    same mode); an existing one is never opened here: closing any descriptor of the file would
    drop this process's SQLite locks, and another process could delete the log under it."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # only a file made here and now is opened outside SQLite
        pass


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode that waits for locks (several workers may open the file at once).

    Switching to WAL needs a moment alone with the file and does not wait on SQLite's busy
    handler, so it is retried; once the file is in WAL mode it stays so. The file is only ever
    opened through SQLite here (see create_file)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA busy_timeout=30000")
    for attempt in range(100):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)
    return db


def migrate(db: sqlite3.Connection, folder: Path, upto: int | None = None) -> int:
    """Apply the numbered `NNNN_name.sql` files of `folder` that the database has not had yet,
    in order, each in one transaction with its number recorded in PRAGMA user_version (so two
    workers opening a new file at once apply each migration once). Returns the version reached."""
    migrations = sorted(folder.glob("[0-9][0-9][0-9][0-9]_*.sql"))
    for path in migrations:
        number = int(path.name[:4])
        if upto is not None and number > upto:
            break
        db.execute("BEGIN IMMEDIATE")  # the write lock first, then look at the version
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] >= number:
                db.execute("ROLLBACK")
                continue
            for statement in _statements(path.read_text()):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {number}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return db.execute("PRAGMA user_version").fetchone()[0]


def _statements(script: str) -> list[str]:
    """A migration's statements (executescript would commit on its own, outside ours)."""
    statements, current = [], []
    for line in script.splitlines():
        current.append(line)
        if sqlite3.complete_statement("\n".join(current)):
            statement = "\n".join(current).strip()
            if statement.strip(";").strip():
                statements.append(statement)
            current = []
    return statements


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def ts(value: datetime | None) -> str | None:
    """A time as the store keeps it: ISO 8601 text, UTC, milliseconds."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


class Database:
    """One SQLite file: a connection per thread, opened on first use and kept; every write is
    one `BEGIN IMMEDIATE` transaction, so concurrent writers queue instead of failing."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        create_file(path)  # before any connection: see create_file

    def _db(self) -> sqlite3.Connection:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            try:
                db = connect(self.path)
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the database: {exc}") from exc
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    @contextmanager
    def _write(self, flushed: bool = False) -> Iterator[sqlite3.Connection]:
        """One write transaction; a failure rolls all of it back. `flushed`: the commit is on
        disk before it returns, power cut included (synchronous=FULL for it alone: money
        Telegram already took), where other commits survive any crash but a power cut."""
        db = self._db()
        try:
            if flushed:
                db.execute("PRAGMA synchronous=FULL")
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if flushed:  # not left on for this connection's later writes
                db.execute("PRAGMA synchronous=NORMAL")
            raise StoreError(f"database is unavailable: {exc}") from exc
        try:
            yield db
        except sqlite3.Error as exc:
            db.execute("ROLLBACK")
            raise StoreError(str(exc)) from exc
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            try:
                db.execute("COMMIT")
            except sqlite3.Error as exc:
                db.execute("ROLLBACK")
                raise StoreError(f"commit failed: {exc}") from exc
        finally:
            if flushed:
                db.execute("PRAGMA synchronous=NORMAL")

    def _one(self, sql: str, params: Sequence = ()) -> sqlite3.Row | None:
        try:
            return self._db().execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def _all(self, sql: str, params: Sequence = ()) -> list[sqlite3.Row]:
        try:
            return self._db().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def ping(self) -> None:
        """Raise StoreError when the file cannot be read."""
        self._one("SELECT 1")

    def backup(self, path: str) -> None:
        """A consistent copy of the database at `path`, made while others write (SQLite's
        online backup, never a file copy), readable by its owner only: one file, out of WAL
        mode, written aside and moved into place, so `path` never holds half a copy."""
        target = Path(path)
        if target.exists() and target.samefile(self.path):
            raise StoreError("that is the database itself")
        if target.name.endswith(SIDE_FILES) or any(
            Path(f"{target}{side}").exists() for side in SIDE_FILES
        ):  # replacing a live database's file (or its log) would lose what is written to it
            raise StoreError("that is, or belongs to, a database in use; choose another path")
        _clear_parts(target)
        part = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            create_file(str(part))
            copy = sqlite3.connect(part)
            try:
                self._db().backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
            finally:
                copy.close()
            flush(part)  # no connection is open on it any more
            os.replace(part, target)
            flush(target.parent)  # the rename, on disk too
        except (OSError, sqlite3.Error) as exc:
            part.unlink(missing_ok=True)
            raise StoreError(str(exc)) from exc


SIDE_FILES = ("-wal", "-shm", "-journal")


def _clear_parts(target: Path) -> None:
    """Remove the copies (and their journals) that a backup to `target` killed midway left,
    each named after its process: those whose process is gone."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(\d+)\.part(-journal)?")
    for left in target.parent.glob(f".{target.name}.*.part*"):
        match = pattern.fullmatch(left.name)
        if match is None:
            continue
        try:
            os.kill(int(match[1]), 0)
        except ProcessLookupError:
            left.unlink(missing_ok=True)
        except PermissionError:  # alive, another user's
            pass
