"""The sandbox's generated images: a soft two-colour gradient with the prompt written on it."""

from __future__ import annotations

import io
import re
import textwrap
import zlib

from PIL import Image, ImageDraw, ImageFont

LORA_TAG = re.compile(r"<(lora|faceid):(\d+):[\d.]+>")


def render_placeholder(text: str, seed: int, size: int = 768, height: int | None = None) -> bytes:
    """A JPEG that depends only on the prompt text and the image's number: `size` square, or
    `size` wide and `height` high (a pack's cover is 4:5, as the Mini App shows covers)."""
    height = height or size
    hue = zlib.crc32(f"{seed}:{text}".encode()) % 360
    top = Image.new("HSV", (1, 1), (hue * 255 // 360, 120, 230)).convert("RGB").getpixel((0, 0))
    bottom = (
        Image.new("HSV", (1, 1), ((hue + 60) % 360 * 255 // 360, 200, 120))
        .convert("RGB")
        .getpixel((0, 0))
    )
    gradient = Image.linear_gradient("L").resize((size, height))
    image = Image.composite(
        Image.new("RGB", (size, height), bottom), Image.new("RGB", (size, height), top), gradient
    )
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size // 20)
    small = ImageFont.load_default(size=size // 32)
    lines = textwrap.wrap(LORA_TAG.sub("", text).strip(), width=28)[:6]
    y = height // 3
    for line in lines:
        draw.text((size // 12, y), line, fill="white", font=font)
        y += size // 16
    draw.text(
        (size // 12, height - size // 10), f"Astria sandbox · #{seed + 1}", fill="white", font=small
    )
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
