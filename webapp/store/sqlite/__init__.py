"""The embedded default store: one SQLite file in WAL mode, safe across threads and processes.

Each thread keeps its own connection; every write is one `BEGIN IMMEDIATE` transaction, so a
spend and the row it pays for land together or not at all, even with several gunicorn workers.
The schema is the numbered migrations in `migrations/`, applied in order on opening (the file
records how far it is in PRAGMA user_version); the store's methods are grouped by what they
keep: users and credits, updates, conversations, models, generations, payments,
photoshoots."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from webapp.records import StoreError
from webapp.store.sqlite.connection import connect, create_file, migrate
from webapp.store.sqlite.conversations import Conversations, Marks
from webapp.store.sqlite.generations import Generations
from webapp.store.sqlite.models import Models
from webapp.store.sqlite.payments import Payments
from webapp.store.sqlite.shoots import Shoots
from webapp.store.sqlite.updates import Updates
from webapp.store.sqlite.users import Users

MIGRATIONS = Path(__file__).with_name("migrations")

__all__ = ["MIGRATIONS", "SQLiteStore", "connect", "create_file", "migrate"]


class SQLiteStore(Users, Updates, Conversations, Marks, Models, Generations, Payments, Shoots):
    """The Store on one SQLite file."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        try:
            migrate(self._db(), MIGRATIONS)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot migrate the database: {exc}") from exc
        self.forget_old_updates()

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open `sqlite:///path/to/file.sqlite3`."""
        path = url.removeprefix("sqlite:///")
        if not url.startswith("sqlite:///") or not path or path.startswith("file:"):
            raise StoreError("DATABASE_URL must look like sqlite:///path/to/file.sqlite3")
        return cls(path)
