"""Builders for Telegram updates and test images."""

from __future__ import annotations

import functools
import io
import itertools
import random
import time

from PIL import Image, ImageDraw

from webapp.sandbox.service import BLUR_BELOW, sharpness  # what /images/inspect measures

_update_ids = itertools.count(int(time.time() * 1000) % 10**9)
_message_ids = itertools.count(1)


def picture(width: int, height: int, color) -> Image.Image:
    """A picture with shapes that depend on its size and colour (so two calls with different
    arguments are different pictures, also to a perceptual hash)."""
    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    rng = random.Random(f"{width}x{height}:{color}")
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        w, h = rng.randrange(width // 8, width // 2), rng.randrange(height // 8, height // 2)
        shade = tuple(rng.randrange(256) for _ in range(3))
        draw.rectangle((x, y, x + w, y + h), fill=shade)
    return image


_colors = itertools.count(1)


def jpeg(width: int = 768, height: int = 768, color=None, exif=None) -> bytes:
    """A real JPEG of the given size; without a colour, each call is a different picture, sharp
    enough for the sandbox's blur test (a few colours draw a picture too flat: the next colour
    is taken, so which tests ran before cannot make a test's photo blurry)."""
    if color is None and exif is None:
        while (content := _jpeg(width, height, _next_color())) is None:
            pass  # too flat for the blur test: the next colour
        return content
    color = color or _next_color()
    if exif is None:
        return _jpeg(width, height, color, sharp_only=False)
    out = io.BytesIO()
    picture(width, height, color).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _next_color() -> tuple[int, int, int]:
    return (next(_colors) * 37 % 256, 120, 80)


@functools.lru_cache(maxsize=4096)
def _jpeg(width: int, height: int, color, sharp_only: bool = True) -> bytes | None:
    """One picture's JPEG, made once per process (a suite draws thousands, and they repeat:
    256 colours a size); None when it is too flat for the blur test and `sharp_only`."""
    image = picture(width, height, color)
    if sharp_only and sharpness(image) < 2 * BLUR_BELOW:
        return None
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def png(width: int = 768, height: int = 768) -> bytes:
    """A real PNG of the given size."""
    out = io.BytesIO()
    picture(width, height, (40, 90, 200)).save(out, "PNG")
    return out.getvalue()


def sender(user_id: int, language_code: str = "en", first_name: str = "Ann") -> dict:
    """A Telegram User object."""
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "username": f"u{user_id}",
        "language_code": language_code,
    }


def _update(**body) -> dict:
    return {"update_id": next(_update_ids), **body}


def message(user_id: int, text: str | None = None, language_code: str = "en", **extra) -> dict:
    """An update with a private message."""
    msg = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private"},
        "from": sender(user_id, language_code),
        **extra,
    }
    if text is not None:
        msg["text"] = text
        if text.startswith("/"):
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return _update(message=msg)


def photo(
    user_id: int,
    file_id: str,
    width: int = 1024,
    height: int = 1024,
    media_group_id: str | None = None,
    language_code: str = "en",
) -> dict:
    """A photo message; Telegram lists sizes smallest first."""
    sizes = [
        {
            "file_id": f"{file_id}-s",
            "file_unique_id": f"{file_id}-us",
            "width": width // 4,
            "height": height // 4,
        },
        {"file_id": file_id, "file_unique_id": f"uniq-{file_id}", "width": width, "height": height},
    ]
    extra = {"photo": sizes}
    if media_group_id:
        extra["media_group_id"] = media_group_id
    return message(user_id, language_code=language_code, **extra)


def document(user_id: int, file_id: str, mime_type: str, size: int, file_name: str) -> dict:
    """A file sent as a document."""
    return message(
        user_id,
        document={
            "file_id": file_id,
            "file_unique_id": f"uniq-{file_id}",
            "mime_type": mime_type,
            "file_size": size,
            "file_name": file_name,
        },
    )


def callback(user_id: int, data: str, message_id: int = 1, language_code: str = "en") -> dict:
    """A button press on one of the bot's messages."""
    return _update(
        callback_query={
            "id": str(next(_update_ids)),
            "from": sender(user_id, language_code),
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
                "text": "…",
            },
        }
    )


def pre_checkout(
    user_id: int, payload: str, amount: int, currency: str = "XTR", language_code: str = "en"
) -> dict:
    """Telegram asking whether a payment may go ahead (the bot has 10 seconds to answer)."""
    return _update(
        pre_checkout_query={
            "id": str(next(_update_ids)),
            "from": sender(user_id, language_code),
            "currency": currency,
            "total_amount": amount,
            "invoice_payload": payload,
        }
    )


def successful_payment(
    user_id: int,
    payload: str,
    amount: int,
    charge_id: str,
    currency: str = "XTR",
    expires: int | None = None,
    first: bool = False,
) -> dict:
    """The service message Telegram sends once the Stars are taken (`expires`: a subscription's
    period ends then; `first`: its first payment)."""
    paid = {
        "currency": currency,
        "total_amount": amount,
        "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "",
    }
    if expires is not None:
        paid.update(subscription_expiration_date=expires, is_recurring=True)
        if first:
            paid["is_first_recurring"] = True
    return message(user_id, successful_payment=paid)


def refunded_payment(user_id: int, payload: str, amount: int, charge_id: str) -> dict:
    """The service message Telegram sends when a payment was refunded."""
    return message(
        user_id,
        refunded_payment={
            "currency": "XTR",
            "total_amount": amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
        },
    )
