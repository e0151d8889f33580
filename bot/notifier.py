"""How outcomes reach the chat: telebot messages and albums, and Telegram file downloads."""

from __future__ import annotations

import logging
from concurrent.futures import Future

from telebot import TeleBot
from telebot.apihelper import ApiTelegramException
from telebot.types import InlineKeyboardMarkup, InputMediaPhoto

from bot import keyboards
from bot.outbox import Outbox, refusal
from bot.render import problem_words
from webapp.images import ImagePolicy, ImageRefused
from webapp.records import Generation, Model, Shoot, User, UserStatus
from webapp.services.ports import Sending, to_a_user
from webapp.services.styles import Styles
from webapp.texts import Texts

log = logging.getLogger("telegram")

PHOTO_UPLOAD_LIMIT = 10 * 1024 * 1024  # Telegram's limit for a photo sent as a file


def _confirmed(sent) -> bool:
    """Telegram has it (or the user cannot be reached: nothing more to send): not a message
    that only waits in the outbox, whose stand-in has message id 0."""
    messages = sent if isinstance(sent, list) else [sent]
    return all(getattr(m, "message_id", 1) != 0 for m in messages if m is not None)


class BotNotifier:
    """Tells users in the chat how their trainings and generations ended.

    Its calls go through the outbox like every Bot API call (paced, 429 waited out); a 403 means
    the user blocked the bot: the outbox marks them, and they are not written to again."""

    def __init__(
        self,
        bot: TeleBot,
        images: ImagePolicy,
        styles: Styles,
        hd_cost: int,
        generate_cost: int,
        app_url: str | None = None,
        outbox: Outbox | None = None,
    ) -> None:
        self.bot = bot
        self.outbox = outbox or Outbox(lambda *a, **k: None)  # the process's, from create_app
        self.images = images
        self.styles = styles  # to name a generation's style in the caption, and price it again
        self.generate_cost = generate_cost
        self.hd_cost = hd_cost
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

    def again_price(self, generation: Generation) -> int:
        """What the same again costs today (the style's price or GENERATE_COST, HD if it had)."""
        style = self.styles.find(generation.style)
        base = style.price if style else self.generate_cost
        return base + (self.hd_cost if generation.hd else 0)

    @to_a_user
    def generation_done(self, user: User, model: Model, generation: Generation) -> Sending:
        """The images as an album: by URL; uploaded as bytes if Telegram refuses the URLs; as
        links if the app cannot fetch them or Telegram refuses them too (they are in the Mini
        App's gallery as well); then the buttons for more. True once Telegram has the album
        (or the user cannot be reached). An album that has to wait in the outbox (a long 429)
        is not waited for: a Future, resolved True once it went out, False if the outbox gave
        it up or Telegram refused it (not delivered: it is sent again)."""
        t = Texts(user.language_code)
        style = self.styles.find(generation.style)
        what = " · ".join(x for x in (style and style.name(t.lang), generation.prompt) if x)
        caption = t("generation_done", prompt=what[:900])
        if generation.shoot_id is not None:  # a photoshoot's: its progress message says the rest
            caption = t("photoshoot_album", title=generation.prompt[:900])
        urls = list(generation.images)

        def as_links():
            text = f"{caption}\n" + "\n".join(urls)
            return self._deliver(user, self.bot.send_message, user.telegram_id, text)

        def more() -> None:
            self._deliver(
                user,
                self.bot.send_message,
                user.telegram_id,
                t("generate_more", name=model.name),
                reply_markup=keyboards.after_album(
                    t, model, generation, self.again_price(generation), self.hd_cost, self.app_url
                ),
            )

        if generation.shoot_id is not None:
            more = lambda: None  # noqa: E731 (the photoshoot's summary comes at its end)
        like = keyboards.likes(generation) if generation.shoot_id is not None else None
        sent, queued = self._album(user, generation, urls, caption, as_links, like)
        if _confirmed(sent):
            if sent:
                more()
            return True
        log.info("generation=%s album waits in the outbox", generation.id)
        result: Future[bool] = Future()

        def settled(ok: bool) -> None:
            result.set_result(ok)  # first: the album is marked delivered before the buttons
            if ok:
                more()

        self.outbox.on_settled(queued, settled)
        return result

    def _album(
        self, user: User, generation: Generation, urls: list[str], caption: str, as_links, like
    ):
        """Send the album by URL, else as files, else as links: what Telegram answered to the
        attempt that counts, and that attempt's queued calls (an earlier attempt Telegram
        refused is not waited for)."""

        def attempt(send, *args):
            with self.outbox.watch() as queued:
                return send(*args), queued

        try:
            return attempt(self._send_images, user, urls, caption, like)
        except ApiTelegramException as exc:
            if exc.error_code != 400:
                raise
            log.info("telegram refused image URLs (%s); uploading the bytes", exc.description)
            try:
                photos = [self.images.fetch(url, PHOTO_UPLOAD_LIMIT) for url in urls]
                return attempt(self._send_images, user, photos, caption, like)
            except ImageRefused as refused:
                log.warning("generation=%s images not fetched: %s", generation.id, refused)
                return attempt(as_links)
            except ApiTelegramException as again:
                if again.error_code != 400:
                    raise
                log.warning("generation=%s images refused as files too: links sent", generation.id)
                return attempt(as_links)

    @to_a_user
    def shoot_progress(self, user: User, shoot: Shoot, ready: int) -> None:
        """Edit the photoshoot's progress message ("12 of 28 ready"), if it has one; an edit
        Telegram refuses (the message is gone, or says that already) is let go."""
        if shoot.message_id is None or user.status == UserStatus.BLOCKED:
            return
        t = Texts(user.language_code)
        text = t("photoshoot_progress", title=shoot.title, ready=ready, total=shoot.num_images)
        try:
            self.bot.edit_message_text(text, user.telegram_id, shoot.message_id)
        except ApiTelegramException as exc:
            if exc.error_code != 400 and refusal(exc) != "unreachable":
                raise
            log.info("shoot=%s progress not edited: %s", shoot.id, exc.description)

    @to_a_user
    def shoot_done(self, user: User, shoot: Shoot, delivered: int, refunded: int) -> None:
        """The photoshoot's summary: what came, what went back, and the app to see it all."""
        t = Texts(user.language_code)
        if delivered >= shoot.num_images:
            text = t("photoshoot_done", title=shoot.title, images=t.images(delivered))
        elif delivered:
            text = t("photoshoot_partial", title=shoot.title, ready=delivered,
                     total=shoot.num_images)  # fmt: skip
        else:
            text = t("photoshoot_failed", title=shoot.title)
            if shoot.error:
                text += " " + t.failure(shoot.error, sentence=True)
        if refunded:
            text += "\n" + t("refunded", credits=t.credits(refunded))
        markup = keyboards.open_app(t, self.app_url)
        self._deliver(user, self.bot.send_message, user.telegram_id, text, reply_markup=markup)

    @to_a_user
    def astria_slow(self, user: User, kind: str, name: str, minutes: int) -> None:
        """Astria is not answering: the work waits (told once)."""
        t = Texts(user.language_code)
        text = t(f"astria_slow_{kind}", name=name, minutes=minutes)
        self._deliver(user, self.bot.send_message, user.telegram_id, text)

    def photo_problems(self, user: User, number: int, problems: tuple[str, ...]) -> None:
        """A training photo sent in the chat will train badly: said at once."""
        t = Texts(user.language_code)
        text = t("photo_flagged", number=number, problems=problem_words(t, problems))
        self._deliver(user, self.bot.send_message, user.telegram_id, text)

    def _send_images(self, user: User, media: list, caption: str, like=None):
        """The images as one photo (with `like`, its 👍 button, if given) or albums of up to
        10: what Telegram answered (a message or a list of them; id 0 while only queued), or
        None if the user blocked the bot."""
        if len(media) == 1:
            markup = InlineKeyboardMarkup().row(*like) if like else None
            return self._deliver(user, self.bot.send_photo, user.telegram_id, media[0],
                                 caption=caption, reply_markup=markup)  # fmt: skip
        answers = []
        for start in range(0, len(media), 10):  # an album holds 2–10 items
            group = media[start : start + 10]
            album = [
                InputMediaPhoto(item, caption=caption if start + i == 0 else None)
                for i, item in enumerate(group)
            ]
            answer = self._deliver(user, self.bot.send_media_group, user.telegram_id, album)
            if answer is None:
                return None
            answers.extend(answer)
        return answers

    @to_a_user
    def generation_failed(self, user: User, generation: Generation, refunded: int) -> None:
        """Why it failed and what was given back."""
        t = Texts(user.language_code)
        text = t("generation_failed", reason=t.failure(generation.error))
        if refunded:
            text += "\n" + t("refunded", credits=t.credits(refunded))
        self._deliver(user, self.bot.send_message, user.telegram_id, text)
