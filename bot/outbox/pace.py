"""Telegram's sending limits, kept as a generic cell rate (GCRA): per chat after a short burst,
for the whole bot after a burst of as many as it may send a second, and a chat told to wait
by a 429 waits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    """Telegram's sending limits: per chat (after a burst) and for the whole bot."""

    chat_rate: float = 1.0
    chat_burst: int = 3
    global_rate: float = 25.0


class Pacer:
    """When the next message to a chat may go (not thread-safe: the outbox holds its lock)."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.clear()

    def clear(self) -> None:
        """Forget every chat."""
        self._chat_tat: dict[int, float] = {}  # per chat: when its pace is next free
        self._global_tat = 0.0
        self._held: dict[int, float] = {}  # chats waiting out a 429: until when

    def reserve(self, chat: int, weight: int, now: float) -> float:
        """The earliest time `weight` messages may go to `chat` by its own pace (never before a
        429's hold ends); books them. The bot's pace is booked when they go (`take`): a chat's
        backlog does not hold up other chats."""
        pace = self.pace
        step = 1.0 / pace.chat_rate
        held = self._held.get(chat, 0.0)
        chat_tat = max(self._chat_tat.get(chat, 0.0), held)
        at = max(now, chat_tat - (pace.chat_burst - 1) * step, held)
        self._chat_tat[chat] = max(chat_tat, at) + weight * step
        if len(self._chat_tat) > 10_000:  # forget chats whose pace is long free again
            self._chat_tat = {c: t for c, t in self._chat_tat.items() if t > now}
            self._held = {c: t for c, t in self._held.items() if t > now}
        return at

    def take(self, weight: int, now: float) -> float:
        """The earliest time `weight` messages may go by the bot's pace (after a burst of as
        many as it may send a second), `now` or later; books them."""
        step = 1.0 / self.pace.global_rate
        at = max(now, self._global_tat - (self.pace.global_rate - 1) * step)
        self._global_tat = max(self._global_tat, at) + weight * step
        return at

    def hold(self, chat: int, until: float) -> None:
        """A 429: nothing goes to the chat before `until` (the refused message goes then), and
        what follows goes at the chat's pace, without a burst: Telegram just said it was too
        much."""
        self._held[chat] = max(self._held.get(chat, 0.0), until)
        pace = self.pace
        after = self._held[chat] + pace.chat_burst / pace.chat_rate
        self._chat_tat[chat] = max(self._chat_tat.get(chat, 0.0), after)

    def held_until(self, chat: int | None) -> float:
        """Until when a chat waits out a 429 (0: it does not)."""
        return self._held.get(chat, 0.0) if chat is not None else 0.0
