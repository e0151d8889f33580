"""The photos users send, downloaded from Telegram by file id into memory: never to disk, and
never handed on as a URL (a Telegram file URL holds the bot token)."""

from __future__ import annotations

import logging
import time
from pathlib import PurePosixPath

import requests
from telebot import TeleBot

from webapp.astria import Photo
from webapp.images import read_at_most
from webapp.services import photos as photo_checks

log = logging.getLogger("telegram")

DOWNLOAD_TIMEOUT = (5, 60)


def _fetch(session: requests.Session, url: str, limit: int, what: str) -> bytes:
    """GET a file with a size cap; the URL is never logged (a Telegram file URL holds the token)."""
    started = time.perf_counter()
    try:
        with session.get(
            url, timeout=DOWNLOAD_TIMEOUT, stream=True, allow_redirects=False
        ) as response:
            log.info(
                "%s download %s %.0fms",
                what,
                response.status_code,
                (time.perf_counter() - started) * 1000,
            )
            if response.status_code != 200:
                raise OSError(f"{what} download failed with HTTP {response.status_code}")
            return read_at_most(response.iter_content(64 * 1024), limit, f"{what} file")
    except requests.RequestException as exc:
        raise OSError(f"{what} download failed: {type(exc).__name__}") from None


class TelegramFiles:
    """Downloads photos the user sent, by file id, into memory (never to disk, never as a URL)."""

    def __init__(self, bot: TeleBot, file_url: str) -> None:
        self.bot = bot
        self.file_url = file_url  # "…/file/bot{0}/{1}": token, file path
        self.session = requests.Session()

    def download(self, file_id: str) -> Photo:
        """The photo's bytes, with its type checked by Pillow."""
        info = self.bot.get_file(file_id)
        url = self.file_url.format(self.bot.token, info.file_path)
        content = _fetch(self.session, url, photo_checks.MAX_BYTES, "telegram")
        _, _, mime_type = photo_checks.inspect(content)
        name = PurePosixPath(info.file_path or "photo.jpg").name
        return Photo(filename=name, content=content, mime_type=mime_type)
