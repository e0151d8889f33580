"""An update cut short by a crash is handled when Telegram delivers it again, with the effect of
handling it once: one charge, one model, one generation, one reply.

Here, in one process: the process "dies" (an exception no handler catches: nothing after it
runs but its own clean-up, so no done mark, no reply, no state) before or after each call a
journey's updates make on the request path (to the store, to Telegram), one kill point per
run; Telegram then delivers the update again (the claim of the dead handler runs out in 50 ms
here), and the journey goes on. tests/test_redelivery_processes.py does the same with real
processes and kill -9."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests import factories as f
from tests.live import WEBHOOK_SECRET
from tests.support import eventually, trained_model
from webapp.records import StoreError

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
# the Store methods a handler may call (the Protocol's names)
STORE_CALLS = (
    "begin_update claim_update finish_update ensure_user get_user grant get_conversation "
    "set_conversation clear_conversation create_model get_model list_models create_generation "
    "get_generation list_generations create_order get_order"
).split()


class Killed(BaseException):
    """The process dies here, as with kill -9: no handler catches a BaseException that is not
    an Exception, so only clean-up (`finally`) runs after it."""


class KillPoints:
    """Counts the calls the request path makes to the store and to Telegram, and kills the
    process before or after the n-th (`arm`)."""

    def __init__(self, live) -> None:
        self.thread = threading.current_thread()  # the test client runs the app in this thread
        self.count = 0
        self.at: tuple[int, str] | None = None
        self.fired: str | None = None  # what the kill interrupted
        store = live.rt.store
        for name in STORE_CALLS:
            setattr(store, name, self._wrap(getattr(store, name), name))
        self.outbox = live.rt.chat.outbox
        self._send = self.outbox._send
        self.outbox._send = self._wrap(self._send, "telegram")

    def _wrap(self, fn, name):
        def call(*args, **kwargs):
            if threading.current_thread() is not self.thread:
                return fn(*args, **kwargs)  # a job, the leases' thread: not the request path
            self.count += 1
            n = self.count  # calls inside this one (SQLite's begin_update) count after it
            what = name if name != "telegram" else f"telegram {args[1].rsplit('/', 1)[-1]}"
            self._maybe_kill(n, "before", what)
            result = fn(*args, **kwargs)
            self._maybe_kill(n, "after", what)
            return result

        return call

    def _maybe_kill(self, n: int, moment: str, what: str) -> None:
        if self.at == (n, moment):
            self.at, self.fired = None, f"{moment} {what}"
            raise Killed(self.fired)

    def arm(self, n: int, moment: str) -> None:
        self.count, self.at, self.fired = 0, (n, moment), None

    def close(self) -> None:
        self.outbox._send = self._send


class Answer:
    """A test client's response as Telegram reads it (FakeTelegram.webhook_answered)."""

    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = response.headers
        self._json = response.get_json(silent=True)

    def json(self):
        return self._json


@pytest.fixture
def chat(make_live, store_env, telegram):
    """An app whose update claims run out in 50 ms (the process that took one is dead here the
    moment it raised), on each store, and its kill points."""
    live = make_live(UPDATE_LEASE_SECONDS="0.05", **store_env)
    points = KillPoints(live)
    yield live, points
    points.close()


def deliver(live, telegram, update: dict) -> int:
    """Deliver an update as Telegram does: again while no answer came (the process died); how
    many deliveries it took."""
    client = live.app.test_client()
    for delivery in range(1, 4):
        try:
            response = client.post("/api/bot/webhook", json=update, headers=HEADERS)
        except Killed:
            continue
        assert response.status_code == 200, response.data
        telegram.webhook_answered(Answer(response))
        return delivery
    raise AssertionError(f"update {update['update_id']} was never answered")


def train_journey(user: int, telegram) -> list[dict]:
    steps = [f.message(user, "/start"), f.message(user, "/train")]
    for n in range(4):
        # just over the smallest photo taken (512 px a side): a hundred journeys' photos are
        # checked, inspected and uploaded, and what a kill interrupts is not their size
        telegram.add_file(f"{user}-{n}", f.jpeg(520 + n, 520))
        steps.append(f.photo(user, f"{user}-{n}", 520 + n, 520))
    return [*steps, f.message(user, "Me"), f.callback(user, "cls:man")]


def ledger(live, user: int) -> Counter:
    return Counter(entry.reason for entry in live.rt.store.ledger(user))


def same_replies(telegram, user: int, unharmed: Counter, fired: str | None) -> None:
    """The user was told what the unharmed journey's user was, each thing once. The one window
    left (docs/known-limits.md): an update that sends two or more replies itself sends them
    after its done mark, so a kill there (after the mark, at a send) may lose some of them; an
    update's only reply is kept with its mark and given to the redelivery."""
    said = Counter(telegram.texts(user))
    assert not [t for t, n in said.items() if n > 1], said
    # "training has started" is not said when the model was ready first (a quick sandbox on a
    # busy machine): the job that says it is not an update's, and never killed here
    said, unharmed = (Counter({t: n for t, n in c.items() if "has started" not in t})
                      for c in (said, unharmed))  # fmt: skip
    assert not said - unharmed, (fired, said - unharmed)
    after_done = fired == "after finish_update" or fired.split()[-1].startswith(
        ("send", "edit", "answer")
    )
    if not after_done:
        assert not unharmed - said, (fired, unharmed - said)


def kill_points(live, points, journey) -> int:
    """How many calls a journey's updates make on the request path, run once unharmed."""
    points.arm(0, "never")
    for update in journey:
        assert deliver(live, points.telegram, update) == 1
    return points.count


@pytest.mark.long  # started first: it sets how long the run takes
def test_a_training_survives_a_crash_at_every_point_of_its_updates(chat, telegram):
    live, points = chat
    points.telegram = telegram
    calls = kill_points(live, points, train_journey(100, telegram))
    assert calls >= 20  # every step reads and writes the store
    eventually(lambda: any("is ready" in t for t in telegram.texts(100)))
    users = {}
    for n in range(1, calls + 1):
        for moment in ("before", "after"):
            user = 1000 + 2 * n + (moment == "after")
            journey = train_journey(user, telegram)
            points.arm(n, moment)
            deliveries = sum(deliver(live, telegram, update) for update in journey)
            assert points.fired and deliveries == len(journey) + 1, (n, moment, points.fired)
            users[user] = points.fired
    live.idle()
    unharmed = Counter(telegram.texts(100))
    for user, fired in users.items():
        why = f"killed {fired}"
        models = live.rt.store.list_models(user)
        assert len(models) == 1, why  # finished: one model …
        assert ledger(live, user)["train"] == 1, why  # … charged once
        assert live.rt.store.get_user(user).credits == sum(
            e.delta for e in live.rt.store.ledger(user)
        )
        # the training goes on to the end, told once
        eventually(lambda user=user: any("is ready" in t for t in telegram.texts(user)))
    live.idle()
    for user, fired in users.items():
        same_replies(telegram, user, unharmed, fired)


def test_a_generation_survives_a_crash_at_every_point_of_its_update(chat, telegram):
    live, points = chat
    points.telegram = telegram
    user = 300
    points.arm(0, "never")
    model = trained_model(live, telegram, user)
    live.rt.store.grant(user, 500, "test", "credits")
    calls = kill_points(live, points, [f.callback(user, f"sty:{model.id}:noir")])
    eventually(lambda: telegram.calls_to("sendMediaGroup", user))  # its album, before the runs
    live.idle()
    for n in range(1, calls + 1):
        for moment in ("before", "after"):
            before = ledger(live, user)["generate"]
            albums = len(telegram.calls_to("sendMediaGroup", user))
            mark = telegram.mark()
            points.arm(n, moment)
            delivered = deliver(live, telegram, f.callback(user, f"sty:{model.id}:noir"))
            assert delivered == (2 if points.fired else 1)
            live.idle()
            why = f"killed {points.fired}"
            assert ledger(live, user)["generate"] == before + 1, why  # charged once
            eventually(
                lambda albums=albums: len(telegram.calls_to("sendMediaGroup", user)) > albums
            )
            live.idle()
            assert len(telegram.calls_to("sendMediaGroup", user)) == albums + 1, why
            said = [c.text for c in telegram.calls[mark:] if c.chat_id == user and c.text]
            assert sum(t.startswith("Creating 4 images") for t in said) <= 1, (why, said)
    assert live.rt.store.get_user(user).credits == sum(e.delta for e in live.rt.store.ledger(user))


def test_a_done_mark_whose_answers_were_lost_is_found_done_and_the_replies_leave(chat, telegram):
    """The store commits the done mark of the class step (a charge, three replies) but its
    answer is lost, twice (a timeout after the commit): the third try finds the update done by
    this process, and the replies go out, once."""
    live, points = chat
    user = 500
    for update in train_journey(user, telegram)[:-1]:
        deliver(live, telegram, update)
    store = live.rt.store
    finish = store.finish_update
    lost = []

    def committed_then_lost(*args, **kwargs):
        done = finish(*args, **kwargs)
        if len(lost) < 2:
            lost.append(done)
            raise StoreError("the answer did not come back")
        return done

    store.finish_update = committed_then_lost
    try:
        assert deliver(live, telegram, f.callback(user, "cls:man")) == 1
    finally:
        store.finish_update = finish
    assert lost == [True, True]  # committed by the first try; the second found it done by us
    said = Counter(telegram.texts(user))
    assert said["Model “Me” — man."] == 1
    assert sum(n for t, n in said.items() if t.startswith("Uploading your photos")) == 1
    assert ledger(live, user)["train"] == 1
