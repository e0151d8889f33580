"""Typed records the store returns (the domain's refusals are in webapp.refusals, and importable
from here with them)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from webapp.refusals import (  # re-exported: the records and the refusals are imported together
    BadRequest as BadRequest,
    DomainError as DomainError,
    InvalidInput as InvalidInput,
    ModelNotReady as ModelNotReady,
    NotEnoughCredits as NotEnoughCredits,
    NotFound as NotFound,
    PaymentUnavailable as PaymentUnavailable,
    SellingOff as SellingOff,
    SettingsError as SettingsError,
    StoreError as StoreError,
)


class ModelStatus(StrEnum):
    """A model (an Astria tune): the seed's words."""

    TRAINING = "training"
    READY = "ready"
    FAILED = "failed"


class GenerationStatus(StrEnum):
    """A generation (an Astria prompt): the seed's words."""

    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class UserStatus(StrEnum):
    """Whether we may still write to the user."""

    ACTIVE = "active"
    BLOCKED = "blocked"


class Failure(StrEnum):
    """Why work failed, as the store keeps it: one of these codes, or what Astria said
    (`Failure.astria(…)`). Each code has a text `reason_<code>` in every language."""

    PHOTOS_UNAVAILABLE = "photos_unavailable"  # Telegram would not give us the photos
    PHOTOS_LOST = "photos_lost"  # Mini App photos, held in memory by a process that restarted
    ASTRIA_UNAVAILABLE = "astria_unavailable"  # Astria did not answer; nothing was made
    DUPLICATE_PHOTOS = "duplicate_photos"  # two of the photos are one picture
    STYLE_GONE = "style_gone"  # the style was taken out of the catalogue before it was sent
    INTERRUPTED = "interrupted"  # our job kept failing until the work's deadline
    MODEL_FAILED = "model_failed"  # a photoshoot's model failed to train: it never ran

    @staticmethod
    def astria(said: str) -> str:
        """A failure Astria explained in its own words."""
        return ASTRIA_SAID + said


ASTRIA_SAID = "astria: "


@dataclass(frozen=True)
class User:
    """A Telegram user and their balance."""

    id: int
    telegram_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    language_code: str | None
    credits: int
    status: UserStatus
    created_at: datetime


@dataclass(frozen=True)
class Model:
    """A personal model; `tune_id` is Astria's id once Astria has answered."""

    id: int
    telegram_user_id: int
    name: str
    class_name: str
    status: ModelStatus
    tune_id: int | None
    title: str
    eta: datetime | None
    error: str | None
    photo_file_ids: tuple[str, ...]
    created_at: datetime
    trained_at: datetime | None
    # "lora" (trained, best likeness) or "faceid" (instant); None: made before models had a
    # type, under the deployment's ASTRIA_MODEL_TYPE (prompt_tune and astria_request resolve it)
    model_type: str | None = "lora"
    cost: int | None = None  # credits charged (None: made before costs were kept)
    characteristics: dict | None = None  # what the photo check saw most (age, hair…)

    def minutes_left(self) -> int | None:
        """Whole minutes until Astria's ETA (rounded up), 0 once it has passed, None if unknown."""
        if self.eta is None:
            return None
        return max(0, math.ceil((self.eta - datetime.now(UTC)).total_seconds() / 60))


@dataclass(frozen=True)
class Generation:
    """One prompt on one model and the images it produced."""

    id: int
    telegram_user_id: int
    model_id: int
    prompt: str
    status: GenerationStatus
    prompt_id: str | None
    num_images: int
    images: tuple[str, ...]
    error: str | None
    created_at: datetime
    style: str | None = None  # a style id of the catalogue (webapp/styles.toml)
    hd: bool = False  # Astria's super_resolution and inpaint_faces
    cost: int | None = None  # credits charged (None: made before costs were kept)
    shoot_id: int | None = None  # one prompt of a photoshoot (Shoot), which was charged instead


@dataclass(frozen=True)
class Shoot:
    """A photoshoot order: an Astria pack run on one ready model, charged `price` once. Its
    prompts come back one by one, each kept as a Generation with this `shoot_id`; the order
    is settled (done) when all `prompts` have, or at its deadline, refunding `refunded`
    credits for the pictures that never came."""

    id: int
    telegram_user_id: int
    model_id: int
    pack_id: int
    title: str  # the photoshoot's title, in the user's language when ordered
    class_name: str
    price: int
    num_images: int  # what the pack makes for the class (Astria's costs.num_images)
    prompts: int  # how many prompts the pack runs for the class
    status: GenerationStatus  # processing, then done (settled) or failed (nothing made)
    prompt_ids: tuple[str, ...] | None  # Astria's prompt ids, once it accepted the run
    created_at: datetime
    refunded: int = 0
    error: str | None = None
    message_id: int | None = None  # the chat message that shows its progress


@dataclass(frozen=True)
class LedgerEntry:
    """One change of a user's credits, with why and what it refers to."""

    telegram_user_id: int
    delta: int
    reason: str
    ref: str
    created_at: datetime


@dataclass(frozen=True)
class DeletedUser:
    """What deleting a user's rows removed, and what Astria may still hold of theirs: the tune
    ids of their models and, for each of their generations Astria acknowledged, its prompt id
    (as stored) with the tune id and the type of its model (which say where the prompt lives)."""

    models: int
    tunes: tuple[int, ...]
    prompts: tuple[tuple[str, int | None, str], ...]


class OrderKind(StrEnum):
    """What an order buys."""

    PACK = "pack"  # credits once (CREDIT_PACKS)
    PLAN = "plan"  # credits every 30 days, a Stars subscription (MONTHLY_PLAN)


@dataclass(frozen=True)
class Pack:
    """Credits for Telegram Stars: a pack of CREDIT_PACKS (named by its credits), or what the
    monthly plan brings each period (MONTHLY_PLAN)."""

    credits: int
    stars: int


@dataclass(frozen=True)
class Order:
    """A pack (or the monthly plan) a user asked to buy: the invoice's payload is its id. Paid
    once it has a payment (an old invoice can still be paid again: each payment is its own, by
    its charge id; a plan's order is paid again every period)."""

    id: int
    telegram_id: int
    credits: int
    stars: int
    created_at: datetime
    paid_at: datetime | None
    kind: OrderKind = OrderKind.PACK


@dataclass(frozen=True)
class Payment:
    """Stars Telegram took for an order, once per `charge_id` (telegram_payment_charge_id);
    `taken_back` credits were removed when it was refunded."""

    id: int
    charge_id: str
    telegram_id: int
    order_id: int | None
    credits: int
    stars: int
    created_at: datetime
    refunded_at: datetime | None
    taken_back: int
    expires_at: datetime | None = None  # a plan's payment: when the period it paid for ends


@dataclass(frozen=True)
class Subscription:
    """A user's monthly plan: paid until `expires_at`; `canceled` means it will not renew."""

    telegram_id: int
    charge_id: str  # the latest period's payment
    expires_at: datetime
    canceled: bool

    def active(self, at: datetime | None = None) -> bool:
        """Paid for the current period."""
        return self.expires_at > (at or datetime.now(UTC))


class MarkKind(StrEnum):
    """What a mark (store: `marks`) remembers about a user's work for a while."""

    SLOW_NOTICE = "slow_notice"  # the user was told this work waits for Astria (once)
    PHOTO_VERDICT = "photo_verdict"  # what the photo check saw in a chat photo, until charged


@dataclass(frozen=True)
class Conversation:
    """Where a user is in a chat flow, and what the flow has gathered so far."""

    state: str | None
    data: dict


@dataclass(frozen=True)
class Begun:
    """What claiming an update found (Store.begin_update, Store.claim_update). Claimed: the
    sender made sure of (`user`, `created`) and their flow's state read (`conversation`), at
    once (begin_update only). Not claimed: done (with the webhook `answer` it carried), or
    `busy`: a process (`held_by`) holds it, not done and within its lease, renewed last at
    `held_at` (a later value next time: that process is alive)."""

    claimed: bool
    user: User | None = None
    created: bool = False
    conversation: Conversation | None = None
    busy: bool = False
    held_at: str | None = None
    held_by: str | None = None
    taken_over: bool = False  # claimed from a process that stopped renewing it, unfinished
    answer: dict | None = None  # done: the webhook answer it carried (the redelivery's too)


@dataclass(frozen=True)
class StateWrite:
    """A chat flow's state as an update leaves it, written when the update is finished
    (Store.finish_update); `state` and `data` None: the state is cleared."""

    key: str
    state: str | None
    data: dict | None


MAX_ID = 2**63 - 1  # Telegram's ids and Astria's: signed 64-bit integers
MAX_ROW_ID = 2**31 - 1  # our own rows (models, generations): Supabase's SERIAL ids are int4


def bounded_id(value, top: int = MAX_ID) -> int | None:
    """An id from outside (JSON, a query, button data): an int in 1..top, else None. Our own
    rows' ids are bounded by MAX_ROW_ID, Telegram's and Astria's by MAX_ID."""
    if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if type(value) is not int or not 1 <= value <= top:
        return None
    return value
