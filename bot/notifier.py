"""How outcomes reach the chat: telebot messages and albums, and Telegram file downloads."""

from __future__ import annotations

import logging
import time
from pathlib import PurePosixPath

import requests
from telebot import TeleBot
from telebot.apihelper import ApiTelegramException
from telebot.types import InputMediaPhoto

from bot import keyboards
from bot.outbox import refusal
from webapp.astria import Photo
from webapp.images import ImagePolicy, ImageRefused, read_at_most
from webapp.records import Generation, Model, User, UserStatus
from webapp.services import photos as photo_checks
from webapp.services.ports import to_a_user
from webapp.texts import Texts

log = logging.getLogger("telegram")

DOWNLOAD_TIMEOUT = (5, 60)
PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024  # Telegram's limit for a photo sent as a file


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

    def __init__(self, bot: TeleBot, files_base: str) -> None:
        self.bot = bot
        self.files_base = files_base
        self.session = requests.Session()

    def download(self, file_id: str) -> Photo:
        """The photo's bytes, with its type checked by Pillow."""
        info = self.bot.get_file(file_id)
        url = f"{self.files_base}/file/bot{self.bot.token}/{info.file_path}"
        content = _fetch(self.session, url, photo_checks.MAX_BYTES, "telegram")
        _, _, mime_type = photo_checks.inspect(content)
        name = PurePosixPath(info.file_path or "photo.jpg").name
        return Photo(filename=name, content=content, mime_type=mime_type)


class BotNotifier:
    """Tells users in the chat how their trainings and generations ended.

    Its calls go through the outbox like every Bot API call (paced, 429 waited out); a 403 means
    the user blocked the bot: the outbox marks them, and they are not written to again."""

    def __init__(self, bot: TeleBot, images: ImagePolicy, app_url: str | None = None) -> None:
        self.bot = bot
        self.images = images
        self.app_url = app_url  # the Mini App, when it is served over https

    def _deliver(self, user: User, call, *args, **kwargs):
        """Make one Bot API call to the user; None if they cannot be reached."""
        if user.status == UserStatus.BLOCKED:
            log.info("user=%s blocked the bot; not sent", user.telegram_id)
            return None
        try:
            return call(*args, **kwargs)
        except ApiTelegramException as exc:
            if refusal(exc) != "unreachable":
                raise
            return None

    @to_a_user
    def training_started(self, user: User, model: Model) -> None:
        """Training has started and takes about N minutes."""
        t = Texts(user.language_code)
        minutes = model.minutes_left()
        minutes = 15 if minutes is None else max(minutes, 1)
        self._deliver(
            user,
            self.bot.send_message,
            user.telegram_id,
            t("training_started", name=model.name, minutes=minutes),
        )

    @to_a_user
    def model_ready(self, user: User, model: Model) -> None:
        """The model is ready, with a Generate button."""
        t = Texts(user.language_code)
        self._deliver(
            user,
            self.bot.send_message,
            user.telegram_id,
            t("model_ready", name=model.name),
            reply_markup=keyboards.generate_with(t, model, app_url=self.app_url),
        )

    @to_a_user
    def model_failed(self, user: User, model: Model, refunded: int) -> None:
        """Why it failed and what was given back."""
        t = Texts(user.language_code)
        text = t("model_failed", name=model.name, reason=t.failure(model.error))
        if refunded:
            text += "\n" + t("refunded", credits=t.credits(refunded))
        self._deliver(user, self.bot.send_message, user.telegram_id, text)

    @to_a_user
    def generation_done(self, user: User, model: Model, generation: Generation) -> None:
        """The images as an album: by URL; uploaded as bytes if Telegram refuses the URLs; as
        links if the app cannot fetch them either (they are in the Mini App's gallery too)."""
        t = Texts(user.language_code)
        caption = t("generation_done", prompt=generation.prompt[:900])
        urls = list(generation.images)
        try:
            sent = self._send_images(user, urls, caption)
        except ApiTelegramException as exc:
            if exc.error_code != 400:
                raise
            log.info("telegram refused image URLs (%s); uploading the bytes", exc.description)
            try:
                photos = [self.images.fetch(url, PHOTO_UPLOAD_LIMIT) for url in urls]
            except ImageRefused as refused:
                log.warning("generation=%s images not fetched: %s", generation.id, refused)
                links = "\n".join(urls)
                text = f"{caption}\n{links}"
                sent = self._deliver(user, self.bot.send_message, user.telegram_id, text)
            else:
                sent = self._send_images(user, photos, caption)
        if sent:
            self._deliver(
                user,
                self.bot.send_message,
                user.telegram_id,
                t("generate_more", name=model.name),
                reply_markup=keyboards.generate_with(t, model, again=True, app_url=self.app_url),
            )

    def _send_images(self, user: User, media: list, caption: str) -> bool:
        """The images as one photo or albums of up to 10; False if the user blocked the bot."""
        if len(media) == 1:
            return (
                self._deliver(
                    user, self.bot.send_photo, user.telegram_id, media[0], caption=caption
                )
                is not None
            )
        for start in range(0, len(media), 10):  # an album holds 2–10 items
            group = media[start : start + 10]
            album = [
                InputMediaPhoto(item, caption=caption if start + i == 0 else None)
                for i, item in enumerate(group)
            ]
            if self._deliver(user, self.bot.send_media_group, user.telegram_id, album) is None:
                return False
        return True

    @to_a_user
    def generation_failed(self, user: User, generation: Generation, refunded: int) -> None:
        """Why it failed and what was given back."""
        t = Texts(user.language_code)
        text = t("generation_failed", reason=t.failure(generation.error))
        if refunded:
            text += "\n" + t("refunded", credits=t.credits(refunded))
        self._deliver(user, self.bot.send_message, user.telegram_id, text)
