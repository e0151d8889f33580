"""The photo check before paying: Astria's /images/inspect on every training photo. The Mini
App's photos are checked together at the charge; the chat's one by one as they arrive (in the
background), their verdicts waiting in the store for the charge."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from webapp.astria import Photo
from webapp.jobs import Background
from webapp.records import InvalidInput, MarkKind, User
from webapp.services import photos as photo_checks
from webapp.services.inspection import (
    GENERIC,
    Inspector,
    Verdict,
    characteristics,
    mismatched,
)
from webapp.services.ports import FileSource, Notifier
from webapp.store import Store

log = logging.getLogger("inspection")


class PhotoChecks:
    """Checks training photos with Astria before any credit is spent; never blocks training."""

    def __init__(
        self,
        store: Store,
        jobs: Background,
        files: FileSource,
        notifier: Notifier,
        inspector: Inspector,
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.files = files
        self.notifier = notifier
        self.inspector = inspector

    def check(self, class_name: str, photos: Sequence[Photo]) -> dict:
        """Photos given as bytes, inspected together before the charge: InvalidInput (reason
        photo_problems, naming each photo and what is wrong) when some will train badly; else
        the characteristics to train with."""
        verdicts = self.inspector.inspect(class_name, photos)
        refuse(verdicts)
        return characteristics(verdicts)

    def inspect_later(self, user: User, file_id: str, number: int) -> None:
        """Queue the check of a photo sent in the chat (it downloads: not on the webhook)."""
        if self.inspector.enabled:
            self.jobs.submit_optional(
                f"inspect photo {number} of user {user.telegram_id}",
                self.inspect_chat_photo,
                user.telegram_id,
                file_id,
                number,
                _since(user),
            )

    def inspect_chat_photo(
        self, telegram_id: int, file_id: str, number: int, since: str | None = None
    ) -> None:
        """A job: a photo sent in the chat, inspected as it arrives (the class is not known
        yet: asked as a person). The verdict waits in the store for the charge; the user hears
        at once of a problem. `since` is when the sender's account was made: if it is not the
        same account any more (/delete, then back), what the check saw is dropped."""
        try:
            photo = photo_checks.for_upload(self.files.download(file_id))
        except Exception as exc:  # Telegram is slow or the photo went: not checked, not blocked
            log.warning("photo %s of user=%s not inspected: %s", number, telegram_id,
                        type(exc).__name__)  # fmt: skip
            return
        (found,) = self.inspector.inspect(GENERIC, [photo])

        def same_account(user: User | None) -> bool:
            return user is not None and (since is None or _since(user) == since)

        if found is None or not same_account(self.store.get_user(telegram_id)):
            return  # not checked, or the user deleted their data meanwhile
        key = _verdict_key(telegram_id, file_id)
        data = {"problems": list(found.problems), "seen_as": found.seen_as, "traits": found.traits}
        self.store.mark(MarkKind.PHOTO_VERDICT, key, telegram_id, data, replace=True)
        user = self.store.get_user(telegram_id)
        if not same_account(user):  # /delete came between the look and the write: it goes too
            self.store.drop_mark(MarkKind.PHOTO_VERDICT, key)
            return
        if found.problems:
            self.notifier.photo_problems(user, number, found.problems)

    def forget_stale_verdicts(self) -> int:
        """Verdicts no charge read (the flow was left, or the check ended after the charge)
        are forgotten a day after they were written: what a photo showed is not kept."""
        gone = self.store.forget_marks(MarkKind.PHOTO_VERDICT, datetime.now(UTC) - VERDICT_TTL)
        if gone:
            log.info("forgot %s photo verdicts no training read", gone)
        return gone

    def chat_verdicts(
        self, telegram_id: int, class_name: str, file_ids: Sequence[str]
    ) -> tuple[list[tuple[int, tuple[str, ...]]], dict]:
        """At the charge: the chat's photos' verdicts (those ready by now): the photos to
        replace, with why (also a class other than the chosen one), and the characteristics.
        They are kept until `forget_verdicts` (a charge that fails keeps them for the next)."""
        verdicts = []
        for file_id in file_ids:
            key = _verdict_key(telegram_id, file_id)
            data = self.store.get_mark(MarkKind.PHOTO_VERDICT, key)
            if data is not None:
                verdicts.append(Verdict(tuple(data["problems"]), data["seen_as"], data["traits"]))
            else:
                verdicts.append(None)
        other = set(mismatched(class_name, verdicts))
        bad = [
            (n, (*v.problems, *(("other_class",) if n in other else ())))
            for n, v in enumerate(verdicts)
            if v is not None and (v.problems or n in other)
        ]
        return bad, characteristics(verdicts)

    def forget_verdicts(self, telegram_id: int, file_ids: Sequence[str]) -> None:
        """The verdicts of photos that were charged for, or replaced: read, and let go."""
        for file_id in file_ids:
            self.store.drop_mark(MarkKind.PHOTO_VERDICT, _verdict_key(telegram_id, file_id))


VERDICT_TTL = timedelta(days=1)  # a verdict no charge read is forgotten after this


def _since(user: User) -> str | None:
    """When an account was made, as a job carries it (None when the store does not say)."""
    return user.created_at.isoformat() if user.created_at else None


def _verdict_key(telegram_id: int, file_id: str) -> str:
    """Which mark holds a chat photo's verdict (a file id and its sender)."""
    return f"{file_id}:{telegram_id}"


def refuse(verdicts: Sequence[Verdict | None]) -> None:
    """InvalidInput naming each photo with a problem, if any has one."""
    bad = [
        {"photo": n + 1, "problems": list(v.problems)}
        for n, v in enumerate(verdicts)
        if v is not None and v.problems
    ]
    if bad:
        raise InvalidInput("Some photos will not train well.", reason="photo_problems", photos=bad)
