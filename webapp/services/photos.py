"""The rules for training photos, one place for the chat and the Mini App, applied before any
credit is spent: how many, which formats, how big in bytes and pixels, how small a side, not
the same picture twice; then, for Astria, upright and re-encoded (Pillow does the decoding).

Cheap checks come first and read only the file's header: the format, the size in pixels (a
12-megapixel camera's photo at most: more is a scan or a decompression bomb), and for a JPEG
the number of its scans (a progressive JPEG has about ten; thousands of empty ones cost minutes
of CPU to decode in a file of a few hundred KB: a "scan bomb"). Only then is
anything decoded, and small: the same-picture check decodes JPEGs at 1/8 scale, and in the chat
it looks at Telegram's smallest preview of a photo (a few KB) rather than the photo."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.astria import Photo
from webapp.records import InvalidInput
from webapp.services.ports import FileSource

log = logging.getLogger("photos")

PHOTOS_PER_MODEL = 4
MIN_SIDE = 512
MAX_BYTES = 20 * 1024 * 1024  # what Telegram lets a bot download
MAX_PIXELS = 12_600_000  # 12 MP cameras (4032×3024, 4096×3072) fit; a full decode is ≤ 50 MB
UPLOAD_SIDE = 2048  # Astria: 1024–2048 px is the sweet spot
MAX_SCANS = 64  # start-of-scan markers in a JPEG; each costs a pass over the whole picture
SAME_PICTURE = 6  # dHash bits that may differ for two files to count as one picture
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
MIME_TYPES = set(FORMATS.values())


class Refusal(StrEnum):
    """Why a photo is refused: the `reason` of the InvalidInput, which each edge puts in words."""

    PHOTO_COUNT = "photo_count"  # not exactly PHOTOS_PER_MODEL photos
    NOT_IMAGE = "not_image"  # not a JPEG, PNG or WebP
    TOO_BIG = "too_big"  # over MAX_BYTES or MAX_PIXELS
    TOO_SMALL = "too_small"  # a side under MIN_SIDE
    UNREADABLE = "unreadable"  # damaged: cannot be decoded
    DUPLICATE = "duplicate_photos"  # the same picture as another one


def check_size(width: int, height: int) -> None:
    """InvalidInput(TOO_SMALL) when a side is under MIN_SIDE px."""
    if min(width, height) < MIN_SIDE:
        raise InvalidInput(reason=Refusal.TOO_SMALL, width=width, height=height, min_side=MIN_SIDE)


def check_scans(image: Image.Image, content: bytes) -> None:
    """InvalidInput(UNREADABLE) for a JPEG with more than MAX_SCANS scans, before it is decoded.
    Every scan starts with the marker FF DA, which cannot occur inside a scan's data (an FF
    there is followed by 00), so counting it bounds the scans."""
    if image.format == "JPEG" and content.count(b"\xff\xda") > MAX_SCANS:
        raise InvalidInput(reason=Refusal.UNREADABLE)


def inspect(content: bytes) -> tuple[int, int, str]:
    """(width, height, mime type) of a JPEG/PNG/WebP image, or InvalidInput."""
    if len(content) > MAX_BYTES:
        raise InvalidInput(reason=Refusal.TOO_BIG)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content)) as image:
                if image.format not in FORMATS:
                    raise InvalidInput(reason=Refusal.NOT_IMAGE)
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(reason=Refusal.TOO_BIG)
                check_scans(image, content)
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(reason=Refusal.TOO_BIG) from None
    except UnidentifiedImageError:
        raise InvalidInput(reason=Refusal.NOT_IMAGE) from None
    except (OSError, SyntaxError, ValueError):
        raise InvalidInput(reason=Refusal.UNREADABLE) from None
    return width, height, FORMATS[image.format]


def for_upload(photo: Photo) -> Photo:
    """The photo as Astria gets it: EXIF orientation applied, at most 2048 px, a fresh JPEG
    (which also drops every EXIF tag, GPS included)."""
    with Image.open(io.BytesIO(photo.content)) as image:
        check_scans(image, photo.content)
        upright = ImageOps.exif_transpose(image).convert("RGB")
    upright.thumbnail((UPLOAD_SIDE, UPLOAD_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=92)
    name = photo.filename.rsplit(".", 1)[0] + ".jpg"
    return Photo(name, out.getvalue(), "image/jpeg")


def fingerprint(content: bytes) -> int:
    """A 64-bit difference hash: near-identical for the same picture re-saved or resized.
    A file that cannot be decoded (truncated, corrupt) is InvalidInput(UNREADABLE)."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            check_scans(image, content)
            image.draft("L", (64, 64))  # JPEG: decode at a fraction of the size
            small = ImageOps.exif_transpose(image).convert("L")
            small = small.resize((9, 8), Image.Resampling.LANCZOS)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise InvalidInput(reason=Refusal.UNREADABLE) from None
    pixels = small.tobytes()  # one byte per pixel, row by row
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (pixels[row * 9 + col] > pixels[row * 9 + col + 1])
    return bits


def _same(a: int, b: int) -> bool:
    return bin(a ^ b).count("1") <= SAME_PICTURE


def same_picture(prints: Sequence[int]) -> tuple[int, int] | None:
    """The first pair (1-based) of fingerprints that are the same picture, or None."""
    for i in range(len(prints)):
        for j in range(i + 1, len(prints)):
            if _same(prints[i], prints[j]):
                return i + 1, j + 1
    return None


def _numbered(n: int, check, *args):
    """check(*args), its InvalidInput naming photo `n` (1-based)."""
    try:
        return check(*args)
    except InvalidInput as exc:
        raise InvalidInput(str(exc), photo=n, **exc.params) from None


def check_count(count: int) -> None:
    """InvalidInput(PHOTO_COUNT) unless a model gets exactly PHOTOS_PER_MODEL photos."""
    if count != PHOTOS_PER_MODEL:
        raise InvalidInput(reason=Refusal.PHOTO_COUNT, photos=PHOTOS_PER_MODEL)


def check_uploads(contents: Sequence[bytes]) -> list[Photo]:
    """Photos uploaded together (the Mini App): the count, each one's header, then the same
    picture twice. InvalidInput names the photo (`photo`, 1-based) and the `reason`."""
    check_count(len(contents))
    photos = []
    for n, content in enumerate(contents, start=1):
        width, height, mime_type = _numbered(n, inspect, content)
        _numbered(n, check_size, width, height)
        photos.append(Photo(f"photo{n}.{mime_type.split('/')[1]}", content, mime_type))
    prints = [_numbered(n, fingerprint, p.content) for n, p in enumerate(photos, start=1)]
    pair = same_picture(prints)
    if pair:
        raise InvalidInput(reason=Refusal.DUPLICATE, pair=list(pair))
    return photos


@dataclass(frozen=True)
class Incoming:
    """A picture a user sent in the chat, as Telegram describes it."""

    file_id: str
    unique_id: str  # the same file sent twice has the same one
    width: int | None = None  # a photo's size (an image sent as a file has none)
    height: int | None = None
    mime_type: str | None = None  # an image sent as a file: its type and size
    size: int | None = None
    preview_id: str | None = None  # a photo's smallest size: enough for the fingerprint


@dataclass(frozen=True)
class Taken:
    """A picture accepted for a model: its ids and fingerprint (None: not taken)."""

    file_id: str
    unique_id: str
    fingerprint: int | None


def check_incoming(picture: Incoming, files: FileSource, taken: Sequence[Taken]) -> Taken:
    """One picture sent in the chat, against the rules and the pictures already taken;
    InvalidInput with a Refusal otherwise.
    An image sent as a file has no size: it is fetched once (in memory) to look."""
    if any(picture.unique_id == t.unique_id for t in taken):
        raise InvalidInput(reason=Refusal.DUPLICATE)
    if picture.width is not None:
        check_size(picture.width, picture.height or 0)
        content = _preview(files, picture.preview_id or picture.file_id)
    else:
        if picture.mime_type not in MIME_TYPES:
            raise InvalidInput(reason=Refusal.NOT_IMAGE)
        if picture.size and picture.size > MAX_BYTES:
            raise InvalidInput(reason=Refusal.TOO_BIG)
        content = files.download(picture.file_id).content
        check_size(*inspect(content)[:2])
    mark = fingerprint(content) if content is not None else None
    if mark is not None and any(t.fingerprint is not None and _same(t.fingerprint, mark)
                                for t in taken):  # fmt: skip
        raise InvalidInput(reason=Refusal.DUPLICATE)
    return Taken(picture.file_id, picture.unique_id, mark)


def _preview(files: FileSource, file_id: str) -> bytes | None:
    """A photo's small preview for its fingerprint, or None when Telegram does not give it now
    (the upload checks the photos again, refunding if two are one picture)."""
    try:
        return files.download(file_id).content
    except Exception as exc:  # a preview is a nicety: never a reason to refuse the photo
        log.warning("preview of a photo unavailable: %s", type(exc).__name__)
        return None
