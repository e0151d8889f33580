"""The sandbox's tunes, prompts and queued faults, in one SQLite file every worker shares (its
schema: the numbered migrations in `migrations/`, as the bot's own store)."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path

from webapp.store.sqlite import connect, create_file, migrate

MIGRATIONS = Path(__file__).with_name("migrations")


class SandboxState:
    """One connection per thread; `with state.db() as db:` is one transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        create_file(path)  # before any connection: see create_file
        migrate(self.db(), MIGRATIONS)

    def db(self) -> sqlite3.Connection:
        """This thread's connection."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            db.isolation_level = ""  # `with db:` is one transaction
            db.row_factory = sqlite3.Row
            self._local.db = db
        return db

    def take_fault(self, kind: str, method: str = "", path: str = "") -> sqlite3.Row | None:
        """Use up one queued fault of this kind that matches the request, if any (there are
        none unless the test suite turned fault injection on and queued some)."""
        db = self.db()
        db.execute("BEGIN IMMEDIATE")  # read-then-write: take the write lock first
        with db:
            for row in db.execute(
                "SELECT * FROM faults WHERE kind = ? AND remaining > 0 ORDER BY id", (kind,)
            ):
                if row["method"] and row["method"] != method:
                    continue
                if row["path"] and not re.fullmatch(row["path"], path):
                    continue
                db.execute("UPDATE faults SET remaining = remaining - 1 WHERE id = ?", (row["id"],))
                return row
        return None
