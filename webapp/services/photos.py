"""Training photo checks shared by the chat and the Mini App (Pillow does the decoding).

Cheap checks come first and read only the file's header: the format, the size in pixels (a
12-megapixel camera's photo at most: more is a scan or a decompression bomb). Only then is
anything decoded, and small: the duplicate check decodes JPEGs at 1/8 scale."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.astria import Photo
from webapp.records import InvalidInput

MIN_SIDE = 512
MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download
MAX_PIXELS = 12_600_000  # 12 MP cameras (4032×3024, 4096×3072) fit; a full decode is ≤ 50 MB
UPLOAD_SIDE = 2048  # Astria: 1024–2048 px is the sweet spot
SAME_PICTURE = 6  # dHash bits that may differ for two files to count as one picture
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
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in FORMATS:
                    raise InvalidInput(reason="not_image")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(reason="too_big", limit_mb=MAX_BYTES // (1024 * 1024))
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(reason="too_big", limit_mb=MAX_BYTES // (1024 * 1024)) from None
    except UnidentifiedImageError:
        raise InvalidInput(reason="not_image") from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(reason="unreadable") from None
    return width, height, FORMATS[image.format]


def for_upload(photo: Photo) -> Photo:
    """The photo as Astria gets it: EXIF orientation applied, at most 2048 px, a fresh JPEG
    (which also drops every EXIF tag, GPS included)."""
    with Image.open(io.BytesIO(photo.content)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((UPLOAD_SIDE, UPLOAD_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=92)
    name = photo.filename.rsplit(".", 1)[0] + ".jpg"
    return Photo(name, out.getvalue(), "image/jpeg")


def fingerprint(content: bytes) -> int:
    """A 64-bit difference hash: near-identical for the same picture re-saved or resized.
    A file that cannot be decoded (truncated, corrupt) is InvalidInput(reason="unreadable")."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.draft("L", (64, 64))  # JPEG: decode at a fraction of the size
            small = ImageOps.exif_transpose(image).convert("L")
            small = small.resize((9, 8), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(reason="unreadable") from None
    pixels = small.tobytes()  # one byte per pixel, row by row
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return bits


def check_uploads(contents: Sequence[bytes]) -> list[Photo]:
    """Photos uploaded together (the Mini App), checked from their headers, then for the same
    picture twice. InvalidInput names the photo (`photo`, 1-based) and the `reason`."""
    photos = []
    for n, content in enumerate(contents, start=1):
        try:
            width, height, mime_type = inspect(content)
            check_size(width, height)
        except InvalidInput as exc:
            raise InvalidInput(str(exc), photo=n, **exc.params) from None
        photos.append(Photo(f"photo{n}.{mime_type.split('/')[1]}", content, mime_type))
    for n, photo in enumerate(photos, start=1):
        try:
            fingerprint(photo.content)
        except InvalidInput as exc:
            raise InvalidInput(str(exc), photo=n, **exc.params) from None
    pair = same_picture([photo.content for photo in photos])
    if pair:
        raise InvalidInput(reason="duplicate_photos", photos=list(pair))
    return photos


def same_picture(photos: Sequence[bytes]) -> tuple[int, int] | None:
    """The first pair (1-based) of photos that are the same picture, or None."""
    prints = [fingerprint(content) for content in photos]
    for i in range(len(prints)):
        for j in range(i + 1, len(prints)):
            if bin(prints[i] ^ prints[j]).count("1") <= SAME_PICTURE:
                return i + 1, j + 1
    return None
