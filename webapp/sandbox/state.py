"""The sandbox's tunes, prompts and queued faults, in one SQLite file every worker shares."""

from __future__ import annotations

import re
import sqlite3
import threading

from webapp.store.sqlite import connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS tunes (
  id INTEGER PRIMARY KEY, title TEXT UNIQUE NOT NULL, name TEXT NOT NULL, model_type TEXT,
  base_tune_id INTEGER, branch TEXT, token TEXT, callback TEXT, images INTEGER NOT NULL,
  created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT, deleted INTEGER DEFAULT 0,
  sizes TEXT
);
CREATE TABLE IF NOT EXISTS prompts (
  id INTEGER PRIMARY KEY, tune_id INTEGER NOT NULL, text TEXT NOT NULL, num_images INTEGER NOT NULL,
  callback TEXT, created_at REAL NOT NULL, ready_at REAL NOT NULL, error TEXT,
  deleted INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS faults (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, method TEXT, path TEXT,
  status INTEGER, body TEXT, remaining INTEGER NOT NULL
);
"""
ADDED_COLUMNS = {"tunes": {"sizes": "TEXT"}, "prompts": {"deleted": "INTEGER DEFAULT 0"}}


class SandboxState:
    """One connection per thread; `with state.db() as db:` is one transaction."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        with self.db() as db:
            db.executescript(SCHEMA)
            for table, columns in ADDED_COLUMNS.items():  # a file made by an older version
                have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
                for name, kind in columns.items():
                    if name not in have:
                        db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")

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
