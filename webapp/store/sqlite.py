"""The embedded default store: one SQLite file in WAL mode, safe across threads and processes.

Each thread keeps its own connection; every write is one `BEGIN IMMEDIATE` transaction, so a
spend and the row it pays for land together or not at all, even with several gunicorn workers.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from webapp.records import (
    Conversation,
    Generation,
    LedgerEntry,
    Model,
    NotEnoughCredits,
    StoreError,
    User,
)
from webapp.store import rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS telegram_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_id INTEGER UNIQUE NOT NULL,
  username TEXT,
  first_name TEXT,
  last_name TEXT,
  created_at TEXT NOT NULL,
  last_active TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'active',
  credits INTEGER NOT NULL DEFAULT 0 CHECK (credits >= 0),
  language_code TEXT
);
CREATE TABLE IF NOT EXISTS telegram_models (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  model_id INTEGER,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'training',
  name TEXT NOT NULL,
  class_name TEXT NOT NULL,
  title TEXT NOT NULL UNIQUE,
  eta TEXT,
  error TEXT,
  photo_file_ids TEXT NOT NULL DEFAULT '[]',
  trained_at TEXT,
  upload_claimed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS telegram_models_user ON telegram_models (telegram_user_id, id);
CREATE INDEX IF NOT EXISTS telegram_models_pending ON telegram_models (status, model_id);
CREATE TABLE IF NOT EXISTS telegram_prompts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  model_id INTEGER NOT NULL REFERENCES telegram_models(id),
  prompt TEXT NOT NULL,
  prompt_id TEXT,
  created_at TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'processing',
  images TEXT NOT NULL DEFAULT '[]',
  num_images INTEGER NOT NULL DEFAULT 4,
  error TEXT,
  submit_claimed_at TEXT,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS telegram_prompts_pending ON telegram_prompts (status, prompt_id);
CREATE INDEX IF NOT EXISTS telegram_prompts_user ON telegram_prompts (telegram_user_id, id);
CREATE INDEX IF NOT EXISTS telegram_prompts_model ON telegram_prompts (model_id, id);
CREATE TABLE IF NOT EXISTS credit_ledger (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_user_id INTEGER NOT NULL REFERENCES telegram_users(telegram_id),
  delta INTEGER NOT NULL,
  reason TEXT NOT NULL,
  ref TEXT NOT NULL,
  created_at TEXT NOT NULL,
  UNIQUE (reason, ref)
);
CREATE INDEX IF NOT EXISTS credit_ledger_user ON credit_ledger (telegram_user_id, id);
CREATE TABLE IF NOT EXISTS conversation_states (
  key TEXT PRIMARY KEY,
  state TEXT,
  data TEXT NOT NULL DEFAULT '{}',
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signup_grants (
  key TEXT PRIMARY KEY,
  created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS processed_updates (
  update_id INTEGER PRIMARY KEY,
  received_at TEXT NOT NULL
);
"""

UPDATE_ID_TTL = timedelta(days=7)  # Telegram keeps undelivered updates for 24 h


def connect(path: str) -> sqlite3.Connection:
    """A connection in WAL mode that waits for locks (several workers may open the file at once).

    Switching to WAL needs a moment alone with the file and does not wait on SQLite's busy
    handler, so it is retried; once the file is in WAL mode it stays so. A new file is created
    readable by its owner only (SQLite gives its -wal and -shm files the same mode)."""
    if path != ":memory:" and not path.startswith("file:"):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
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


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


LAST_ACTIVE_PRECISION = timedelta(minutes=1)


def _unchanged(row, username, first_name, last_name, language_code, now: datetime) -> bool:
    """The stored profile is current and `last_active` is fresh enough not to rewrite it."""
    return (
        row["status"] == "active"
        and (row["username"], row["first_name"], row["last_name"])
        == (username, first_name, last_name)
        and (language_code is None or row["language_code"] == language_code)
        and now - rows.when(row["last_active"]) < LAST_ACTIVE_PRECISION
    )


class SQLiteStore:
    """The Store on one SQLite file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db().executescript(SCHEMA)  # idempotent; runs in its own transaction
        except sqlite3.Error as exc:
            raise StoreError(f"cannot create the schema: {exc}") from exc
        with self._write() as db:
            db.execute(
                "DELETE FROM processed_updates WHERE received_at < ?",
                (_ts(_now() - UPDATE_ID_TTL),),
            )

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        """Open `sqlite:///path/to/file.sqlite3`."""
        if not url.startswith("sqlite:///"):
            raise StoreError("DATABASE_URL must look like sqlite:///path/to/file.sqlite3")
        return cls(url.removeprefix("sqlite:///"))

    # connections ------------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use and kept."""
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
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken up front so concurrent writers queue instead of failing."""
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
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

    # credits ----------------------------------------------------------------------------------

    @staticmethod
    def _change_credits(
        db: sqlite3.Connection, telegram_id: int, delta: int, reason: str, ref: str
    ) -> int | None:
        """Ledger row + balance change in the caller's transaction; None if (reason, ref) exists.

        A spend that would go below zero raises NotEnoughCredits before anything is written."""
        if delta < 0:
            row = db.execute(
                "SELECT credits FROM telegram_users WHERE telegram_id = ?", (telegram_id,)
            ).fetchone()
            have = row["credits"] if row else 0
            if have < -delta:
                raise NotEnoughCredits(need=-delta, have=have)
        inserted = db.execute(
            "INSERT INTO credit_ledger (telegram_user_id, delta, reason, ref, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (reason, ref) DO NOTHING",
            (telegram_id, delta, reason, ref, _ts(_now())),
        ).rowcount
        if not inserted:
            return None
        row = db.execute(
            "UPDATE telegram_users SET credits = credits + ? WHERE telegram_id = ? "
            "RETURNING credits",
            (delta, telegram_id),
        ).fetchone()
        return row["credits"]

    def ensure_user(
        self,
        telegram_id: int,
        *,
        username: str | None,
        first_name: str | None,
        last_name: str | None,
        language_code: str | None,
        free_credits: int,
        signup_key: str,
    ) -> tuple[User, bool]:
        """Create the user on first contact, else refresh the profile.

        The free credits come once per `signup_key` (a keyed hash of the Telegram id, kept after
        /delete), so deleting one's data and coming back does not earn them again."""
        now = _now()
        known = self._one("SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        if known is not None and _unchanged(
            known, username, first_name, last_name, language_code, now
        ):
            return rows.user(known), False  # nothing to write: most updates end here
        now = _ts(now)
        with self._write() as db:
            created = db.execute(
                "INSERT INTO telegram_users (telegram_id, username, first_name, last_name, "
                "language_code, created_at, last_active, credits) VALUES (?, ?, ?, ?, ?, ?, ?, 0) "
                "ON CONFLICT (telegram_id) DO NOTHING",
                (telegram_id, username, first_name, last_name, language_code, now, now),
            ).rowcount
            first_time = (
                created
                and db.execute(
                    "INSERT INTO signup_grants (key, created_at) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (signup_key, now),
                ).rowcount
            )
            if first_time and free_credits:
                self._change_credits(db, telegram_id, free_credits, "signup", str(telegram_id))
            if not created:
                db.execute(
                    "UPDATE telegram_users SET username = ?, first_name = ?, last_name = ?, "
                    "language_code = COALESCE(?, language_code), last_active = ?, "
                    "status = 'active' WHERE telegram_id = ?",
                    (username, first_name, last_name, language_code, now, telegram_id),
                )
            row = db.execute(
                "SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,)
            ).fetchone()
        return rows.user(row), bool(created)

    def get_user(self, telegram_id: int) -> User | None:
        """The user, or None."""
        row = self._one("SELECT * FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        return rows.user(row) if row else None

    def grant(self, telegram_id: int, amount: int, reason: str, ref: str) -> int | None:
        """Add credits once per (reason, ref)."""
        with self._write() as db:
            return self._change_credits(db, telegram_id, amount, reason, ref)

    def ledger(self, telegram_id: int) -> list[LedgerEntry]:
        """Every credit change of the user, oldest first."""
        found = self._all(
            "SELECT * FROM credit_ledger WHERE telegram_user_id = ? ORDER BY id", (telegram_id,)
        )
        return [rows.ledger_entry(r) for r in found]

    def set_user_status(self, telegram_id: int, status: str) -> None:
        """Mark a user active or blocked."""
        with self._write() as db:
            db.execute(
                "UPDATE telegram_users SET status = ? WHERE telegram_id = ?", (status, telegram_id)
            )

    def delete_user(self, telegram_id: int) -> int:
        """Delete every row of the user in one transaction; the number of models deleted."""
        with self._write() as db:
            db.execute("DELETE FROM telegram_prompts WHERE telegram_user_id = ?", (telegram_id,))
            models = db.execute(
                "DELETE FROM telegram_models WHERE telegram_user_id = ?", (telegram_id,)
            ).rowcount
            db.execute("DELETE FROM credit_ledger WHERE telegram_user_id = ?", (telegram_id,))
            db.execute("DELETE FROM conversation_states WHERE key LIKE ?", (f"%:{telegram_id}",))
            db.execute("DELETE FROM telegram_users WHERE telegram_id = ?", (telegram_id,))
        return models

    def stats(self, since: datetime) -> dict:
        """Counts, and credits spent (net of refunds) since `since`."""
        row = self._one(
            "SELECT (SELECT COUNT(*) FROM telegram_users) AS users, "
            "(SELECT COUNT(*) FROM telegram_models) AS models, "
            "(SELECT COUNT(*) FROM telegram_models WHERE status = 'ready') AS models_ready, "
            "(SELECT COUNT(*) FROM telegram_prompts) AS generations, "
            "(SELECT COALESCE(-SUM(delta), 0) FROM credit_ledger WHERE created_at >= ? AND "
            "reason IN ('train', 'generate', 'train_refund', 'generate_refund')) AS spent_since",
            (_ts(since),),
        )
        return dict(row)

    # webhook deliveries -----------------------------------------------------------------------

    def claim_update(self, update_id: int) -> bool:
        """True the first time an update id is seen (one statement: atomic on its own)."""
        try:
            return bool(
                self._db()
                .execute(
                    "INSERT INTO processed_updates (update_id, received_at) VALUES (?, ?) "
                    "ON CONFLICT DO NOTHING",
                    (update_id, _ts(_now())),
                )
                .rowcount
            )
        except sqlite3.Error as exc:
            raise StoreError(str(exc)) from exc

    # conversation state -----------------------------------------------------------------------

    def get_conversation(self, key: str) -> Conversation:
        """The chat flow state under a key."""
        row = self._one("SELECT state, data FROM conversation_states WHERE key = ?", (key,))
        if row is None:
            return Conversation(None, {})
        return Conversation(row["state"], json.loads(row["data"]))

    def set_conversation(self, key: str, state: str | None, data: dict) -> None:
        """Write the chat flow state under a key."""
        with self._write() as db:
            db.execute(
                "INSERT INTO conversation_states (key, state, data, updated_at) "
                "VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET state = excluded.state, data = excluded.data, "
                "updated_at = excluded.updated_at",
                (key, state, json.dumps(data), _ts(_now())),
            )

    def clear_conversation(self, key: str) -> None:
        """Forget the chat flow state under a key."""
        with self._write() as db:
            db.execute("DELETE FROM conversation_states WHERE key = ?", (key,))

    # models -----------------------------------------------------------------------------------

    def create_model(
        self,
        telegram_id: int,
        *,
        name: str,
        class_name: str,
        title: str,
        photo_file_ids: Sequence[str],
        cost: int,
    ) -> tuple[Model, int]:
        """Charge and insert a training model in one transaction."""
        now = _ts(_now())
        with self._write() as db:
            row = db.execute(
                "INSERT INTO telegram_models (telegram_user_id, created_at, status, name, "
                "class_name, title, photo_file_ids, updated_at) "
                "VALUES (?, ?, 'training', ?, ?, ?, ?, ?) RETURNING *",
                (telegram_id, now, name, class_name, title, json.dumps(list(photo_file_ids)), now),
            ).fetchone()
            model = rows.model(row)
            balance = self._change_credits(db, telegram_id, -cost, "train", str(model.id))
        return model, balance

    def get_model(self, model_id: int) -> Model | None:
        """One model, or None."""
        row = self._one("SELECT * FROM telegram_models WHERE id = ?", (model_id,))
        return rows.model(row) if row else None

    def list_models(self, telegram_id: int) -> list[Model]:
        """The user's models, newest first."""
        found = self._all(
            "SELECT * FROM telegram_models WHERE telegram_user_id = ? ORDER BY id DESC",
            (telegram_id,),
        )
        return [rows.model(r) for r in found]

    def claim_model_upload(self, model_id: int, lease_seconds: int) -> bool:
        """Take the upload lease on a training model Astria has not acknowledged."""
        now = _now()
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_models SET upload_claimed_at = ? WHERE id = ? "
                    "AND status = 'training' AND model_id IS NULL "
                    "AND (upload_claimed_at IS NULL OR upload_claimed_at <= ?)",
                    (_ts(now), model_id, _ts(now - timedelta(seconds=lease_seconds))),
                ).rowcount
            )

    def models_awaiting_upload(self) -> list[Model]:
        """Training models without an Astria tune id."""
        found = self._all(
            "SELECT * FROM telegram_models WHERE status = 'training' AND model_id IS NULL "
            "ORDER BY id"
        )
        return [rows.model(r) for r in found]

    def models_in_progress(self, before: datetime) -> list[Model]:
        """Training models whose ETA (or creation) is before `before`."""
        found = self._all(
            "SELECT * FROM telegram_models WHERE status = 'training' "
            "AND COALESCE(eta, created_at) < ? ORDER BY id",
            (_ts(before),),
        )
        return [rows.model(r) for r in found]

    def mark_model_submitted(self, model_id: int, tune_id: int, eta: datetime | None) -> bool:
        """Record Astria's tune id and ETA."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_models SET model_id = ?, eta = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'training'",
                    (tune_id, _ts(eta), _ts(_now()), model_id),
                ).rowcount
            )

    def finish_model(
        self, model_id: int, tune_id: int | None, trained_at: datetime | None
    ) -> Model | None:
        """training → ready."""
        with self._write() as db:
            row = db.execute(
                "UPDATE telegram_models SET status = 'ready', model_id = COALESCE(?, model_id), "
                "trained_at = ?, error = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'training' RETURNING *",
                (tune_id, _ts(trained_at or _now()), _ts(_now()), model_id),
            ).fetchone()
        return rows.model(row) if row else None

    def fail_model(self, model_id: int, error: str, refund: int) -> tuple[Model, int | None] | None:
        """training → failed, with the training charge refunded once."""
        with self._write() as db:
            row = db.execute(
                "UPDATE telegram_models SET status = 'failed', error = ?, updated_at = ? "
                "WHERE id = ? AND status = 'training' RETURNING *",
                (error, _ts(_now()), model_id),
            ).fetchone()
            if row is None:
                return None
            model = rows.model(row)
            balance = None
            if refund:
                balance = self._change_credits(
                    db, model.telegram_user_id, refund, "train_refund", str(model.id)
                )
        return model, balance

    # generations ------------------------------------------------------------------------------

    def create_generation(
        self, telegram_id: int, *, model_id: int, prompt: str, num_images: int, cost: int
    ) -> tuple[Generation, int]:
        """Charge and insert a processing generation in one transaction."""
        now = _ts(_now())
        with self._write() as db:
            row = db.execute(
                "INSERT INTO telegram_prompts (telegram_user_id, model_id, prompt, created_at, "
                "status, images, num_images, updated_at) "
                "VALUES (?, ?, ?, ?, 'processing', '[]', ?, ?) RETURNING *",
                (telegram_id, model_id, prompt, now, num_images, now),
            ).fetchone()
            generation = rows.generation(row)
            balance = self._change_credits(db, telegram_id, -cost, "generate", str(generation.id))
        return generation, balance

    def get_generation(self, generation_id: int) -> Generation | None:
        """One generation, or None."""
        row = self._one("SELECT * FROM telegram_prompts WHERE id = ?", (generation_id,))
        return rows.generation(row) if row else None

    def list_generations(
        self,
        telegram_id: int,
        *,
        model_id: int | None = None,
        limit: int = 20,
        before_id: int | None = None,
    ) -> list[Generation]:
        """The user's generations, newest first."""
        sql = "SELECT * FROM telegram_prompts WHERE telegram_user_id = ?"
        params: list = [telegram_id]
        if model_id is not None:
            sql += " AND model_id = ?"
            params.append(model_id)
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [rows.generation(r) for r in self._all(sql, params)]

    def claim_generation_submit(self, generation_id: int, lease_seconds: int) -> bool:
        """Take the submit lease on a processing generation Astria has not acknowledged."""
        now = _now()
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_prompts SET submit_claimed_at = ? WHERE id = ? "
                    "AND status = 'processing' AND prompt_id IS NULL "
                    "AND (submit_claimed_at IS NULL OR submit_claimed_at <= ?)",
                    (_ts(now), generation_id, _ts(now - timedelta(seconds=lease_seconds))),
                ).rowcount
            )

    def generations_awaiting_submit(self) -> list[Generation]:
        """Processing generations without an Astria prompt id."""
        found = self._all(
            "SELECT * FROM telegram_prompts WHERE status = 'processing' AND prompt_id IS NULL "
            "ORDER BY id"
        )
        return [rows.generation(r) for r in found]

    def generations_in_progress(self, before: datetime) -> list[Generation]:
        """Processing generations created before `before`."""
        found = self._all(
            "SELECT * FROM telegram_prompts WHERE status = 'processing' AND created_at < ? "
            "ORDER BY id",
            (_ts(before),),
        )
        return [rows.generation(r) for r in found]

    def mark_generation_submitted(self, generation_id: int, prompt_id: str) -> bool:
        """Record Astria's prompt id."""
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE telegram_prompts SET prompt_id = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'processing'",
                    (prompt_id, _ts(_now()), generation_id),
                ).rowcount
            )

    def finish_generation(
        self, generation_id: int, images: Sequence[str], prompt_id: str | None
    ) -> Generation | None:
        """processing → done."""
        with self._write() as db:
            row = db.execute(
                "UPDATE telegram_prompts SET status = 'done', images = ?, "
                "prompt_id = COALESCE(?, prompt_id), error = NULL, updated_at = ? "
                "WHERE id = ? AND status = 'processing' RETURNING *",
                (json.dumps(list(images)), prompt_id, _ts(_now()), generation_id),
            ).fetchone()
        return rows.generation(row) if row else None

    def fail_generation(
        self, generation_id: int, error: str, refund: int
    ) -> tuple[Generation, int | None] | None:
        """processing → failed, with the charge refunded once."""
        with self._write() as db:
            row = db.execute(
                "UPDATE telegram_prompts SET status = 'failed', error = ?, updated_at = ? "
                "WHERE id = ? AND status = 'processing' RETURNING *",
                (error, _ts(_now()), generation_id),
            ).fetchone()
            if row is None:
                return None
            generation = rows.generation(row)
            balance = None
            if refund:
                balance = self._change_credits(
                    db, generation.telegram_user_id, refund, "generate_refund", str(generation.id)
                )
        return generation, balance
