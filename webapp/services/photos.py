"""Training photo checks shared by the chat and the Mini App (Pillow does the decoding)."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from webapp.records import InvalidInput

MIN_SIDE = 512
MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIME_TYPES = set(FORMATS.values())


def check_size(width: int, height: int) -> None:
    """InvalidInput(reason="too_small") when a side is under 512 px."""
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(reason="too_small", width=width, height=height, min_side=MIN_SIDE)


def inspect(content: bytes) -> tuple[int, int, str]:
    """(width, height, mime type) of a JPEG/PNG/WebP image, or InvalidInput."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(reason="too_big", limit_mb=MAX_BYTES // (1024 * 1024))
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in FORMATS:
                raise InvalidInput(reason="not_image")
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError):
        raise InvalidInput(reason="not_image") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(reason="unreadable") from None
    return width, height, FORMATS[image.format]
