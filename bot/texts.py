"""Everything the bot says, per language (English is the fallback)."""

from __future__ import annotations

EN = {
    "start": (
        "Hi{name}! I turn 4 photos of you into a personal AI model, then paint you in any "
        "scene you describe.\n\n"
        "1. /train — send 4 photos and name your model\n"
        "2. /generate — describe a picture and get {images} of yourself\n\n"
        "You have {credits}. Training costs {train}, each generation {generate}."
    ),
    "help": (
        "What I can do:\n"
        "/train — create a model from 4 photos of one person\n"
        "/generate — make images with one of your ready models\n"
        "/models — your models and how they are doing\n"
        "/credits — your balance and prices\n"
        "/cancel — stop what we are doing\n"
        "/delete — delete your models, images and data\n"
        "/help — this list\n\n"
        "Tips: clear, well-lit photos of one face, no sunglasses, different angles."
    ),
    "credits": (
        "You have {credits}.\nTraining a model: {train}. One generation ({images}): {generate}."
    ),
    "cancelled": "Cancelled. Nothing was charged.",
    "nothing_to_cancel": "There is nothing to cancel. /help lists what I can do.",
    "unknown_text": (
        "I'm not sure what you mean. Use /train to create a model, /generate to make "
        "images, or /help for everything else."
    ),
    "unknown_media": "To train a model, start with /train and then send 4 photos.",
    "stale_button": "This button is no longer active.",
    "flood": "You're sending messages too fast. I'll pause for a bit; please slow down.",
    "error": "Something went wrong on our side. Please try again in a minute.",
    "busy": (
        "Telegram is busy right now and I couldn't take that in. Please send it again in a minute."
    ),
    # /train
    "train_intro": (
        "Send me 4 photos of the same person: the face clearly visible, good light, different "
        "angles, no sunglasses. Photos or image files (JPEG, PNG, WebP), at least {min_side} px.\n"
        "Training costs {cost}; you have {credits}. /cancel to stop."
    ),
    "train_no_credits": ("Training needs {need} and you have {have}. Nothing was charged."),
    "photo_received": "Photo {count} of {total} received. {left} to go.",
    "photos_complete": (
        "All {total} photos received. Now send a name for your model (1–{limit} characters)."
    ),
    "photo_too_small": (
        "This photo is {width}×{height} px; I need at least {min_side} px on each side. "
        "Please send a larger one."
    ),
    "photo_not_image": "That file isn't a photo. Please send a JPEG, PNG or WebP image.",
    "photo_too_big": "That file is larger than {limit_mb} MB. Please send a smaller photo.",
    "photo_unreadable": "I couldn't open that image. Please send another photo.",
    "photo_duplicate": "I already have this photo. Please send a different one.",
    "photo_waiting": "Please send photos: {left} more to go. /cancel to stop.",
    "photos_already": (
        "I already have {total} photos. Now send the name for your model, or /cancel to start over."
    ),
    "name_empty": "The name can't be empty. Send 1–{limit} characters.",
    "name_too_long": "That name is too long: {limit} characters at most.",
    "name_not_text": "Please send the name as text (1–{limit} characters).",
    "choose_class": "Who is in the photos? This helps the model.",
    "choose_class_hint": "Please choose who is in the photos with the buttons above.",
    "class_chosen": "Model “{name}” — {class_label}.",
    "train_queued": (
        "Uploading your photos to start training “{name}”. {cost} spent; "
        "{credits} left. I'll tell you when training starts."
    ),
    "training_started": (
        "Training of “{name}” has started. It takes about {minutes} min; I'll message you when "
        "it's ready."
    ),
    "model_ready": "Your model “{name}” is ready! Tap below to create images.",
    "model_failed": "I couldn't train “{name}”: {reason}",
    "refunded": "{credits} returned to your balance.",
    # /generate
    "no_models": "You have no models yet. Create one with /train.",
    "models_training": "Your model is still training ({eta}). I'll message you when it's ready.",
    "choose_model": "Which model should I use?",
    "generate_no_credits": ("A generation needs {need} and you have {have}. Nothing was charged."),
    "ask_prompt": (
        "Describe the picture of you with “{name}”, for example: “portrait in a sunlit studio, "
        "film photo”. /cancel to stop."
    ),
    "prompt_empty": "The description can't be empty.",
    "prompt_too_long": "That description is too long: {limit} characters at most.",
    "prompt_not_text": "Please send the description as text.",
    "generation_queued": ("Creating {images} with “{name}”… {cost} spent; {credits} left."),
    "generation_done": "Here you are! “{prompt}”",
    "generate_more": "Want more pictures with “{name}”?",
    "generation_failed": "I couldn't create the images: {reason}",
    "model_not_found": "I can't find that model.",
    "model_not_ready": "That model isn't ready yet.",
    # /models
    "models_header": "Your models:",
    "model_line_ready": "✅ {name} ({class_label}) — ready",
    "model_line_training": "⏳ {name} ({class_label}) — training, {eta}",
    "model_line_failed": "❌ {name} ({class_label}) — failed",
    "eta_minutes": "about {minutes} min left",
    "eta_soon": "almost done",
    "eta_unknown": "starting",
    # failure reasons
    "reason_photos_unavailable": "Telegram no longer has the photos. Please send them again.",
    "reason_photos_lost": "the photos were lost in a server restart. Please upload them again.",
    "reason_duplicate_photos": "two of the photos are the same picture. Please /train again "
    "with 4 different photos.",
    "reason_astria_unavailable": "the AI service is unavailable right now. Please try later.",
    "reason_astria": "the AI service refused it ({detail}).",
    "reason_other": "something went wrong ({detail}).",
    # buttons
    "btn_generate": "🎨 Generate with {name}",
    "btn_generate_again": "🎨 Generate again",
    "btn_train": "➕ New model",
    "btn_open_app": "📱 Open the app",
    "btn_open_model": "🖼 Open in the app",
    "class_man": "Man",
    "class_woman": "Woman",
    "class_person": "Person",
    "class_boy": "Boy",
    "class_girl": "Girl",
    "class_dog": "Dog",
    "class_cat": "Cat",
    # command menu
    "cmd_start": "Start over",
    "cmd_help": "What I can do",
    "cmd_train": "Create a model from 4 photos",
    "cmd_generate": "Make images of yourself",
    "cmd_models": "Your models",
    "cmd_credits": "Balance and prices",
    "cmd_cancel": "Stop the current step",
    "cmd_delete": "Delete my data",
    "delete_confirm": (
        "Delete everything? Your models (also on Astria), images, credits and history will be "
        "gone for good."
    ),
    "btn_delete_yes": "🗑 Delete everything",
    "btn_delete_no": "Keep my data",
    "delete_done": "Done: all your data is deleted. Send /start if you want to begin again.",
    "delete_kept": "Nothing was deleted.",
    "delete_failed": "I couldn't delete your models on Astria right now, so nothing was deleted. "
    "Please try again later.",
    "stats": (
        "Users: {users}\nModels: {models} ({models_ready} ready)\nGenerations: {generations}\n"
        "Credits spent today: {spent_since}"
    ),
    "grant_usage": "Usage: /grant <telegram_id> <credits>",
    "grant_done": "Granted {credits} to {telegram_id}; their balance is now {balance}.",
    "grant_repeat": "That grant was already made.",
    "grant_unknown": "There is no user {telegram_id}.",
    "menu_app": "App",
}

RU = {
    "start": (
        "Привет{name}! Я превращаю 4 ваших фото в персональную ИИ-модель и рисую вас в любой "
        "сцене, которую вы опишете.\n\n"
        "1. /train — пришлите 4 фото и назовите модель\n"
        "2. /generate — опишите картинку и получите {images} с собой\n\n"
        "У вас {credits}. Обучение стоит {train}, каждая генерация — {generate}."
    ),
    "help": (
        "Что я умею:\n"
        "/train — создать модель по 4 фото одного человека\n"
        "/generate — создать изображения с готовой моделью\n"
        "/models — ваши модели и их состояние\n"
        "/credits — баланс и цены\n"
        "/cancel — прервать текущее действие\n"
        "/delete — удалить ваши модели, изображения и данные\n"
        "/help — этот список\n\n"
        "Советы: чёткие фото одного лица при хорошем свете, без тёмных очков, с разных ракурсов."
    ),
    "credits": (
        "У вас {credits}.\nОбучение модели: {train}. Одна генерация ({images}): {generate}."
    ),
    "cancelled": "Отменено. Кредиты не списаны.",
    "nothing_to_cancel": "Отменять нечего. /help — что я умею.",
    "unknown_text": (
        "Не понял вас. /train — создать модель, /generate — создать изображения, "
        "/help — всё остальное."
    ),
    "unknown_media": "Чтобы обучить модель, начните с /train и пришлите 4 фото.",
    "stale_button": "Эта кнопка больше не активна.",
    "flood": "Вы отправляете сообщения слишком часто. Я сделаю паузу — пожалуйста, помедленнее.",
    "error": "У нас что-то пошло не так. Попробуйте через минуту.",
    "busy": "Telegram сейчас перегружен, и я не смог это принять. Отправьте ещё раз через минуту.",
    "train_intro": (
        "Пришлите 4 фото одного человека: лицо хорошо видно, хороший свет, разные ракурсы, без "
        "тёмных очков. Фото или файлы изображений (JPEG, PNG, WebP), не меньше {min_side} px.\n"
        "Обучение стоит {cost}; у вас {credits}. /cancel — отменить."
    ),
    "train_no_credits": "Для обучения нужно {need}, а у вас {have}. Ничего не списано.",
    "photo_received": "Фото {count} из {total} получено. Осталось {left}.",
    "photos_complete": (
        "Все {total} фото получены. Теперь пришлите название модели (1–{limit} символов)."
    ),
    "photo_too_small": (
        "Это фото {width}×{height} px, а нужно не меньше {min_side} px по каждой стороне. "
        "Пришлите фото побольше."
    ),
    "photo_not_image": "Это не фото. Пришлите изображение JPEG, PNG или WebP.",
    "photo_too_big": "Файл больше {limit_mb} МБ. Пришлите фото поменьше.",
    "photo_unreadable": "Не удалось открыть изображение. Пришлите другое фото.",
    "photo_duplicate": "Это фото у меня уже есть. Пришлите другое.",
    "photo_waiting": "Пришлите фото: осталось {left}. /cancel — отменить.",
    "photos_already": (
        "У меня уже есть {total} фото. Пришлите название модели или /cancel, чтобы начать заново."
    ),
    "name_empty": "Название не может быть пустым. Пришлите 1–{limit} символов.",
    "name_too_long": "Слишком длинное название: не больше {limit} символов.",
    "name_not_text": "Пришлите название текстом (1–{limit} символов).",
    "choose_class": "Кто на фото? Это поможет модели.",
    "choose_class_hint": "Выберите, кто на фото, кнопками выше.",
    "class_chosen": "Модель «{name}» — {class_label}.",
    "train_queued": (
        "Загружаю фото, чтобы начать обучение «{name}». Списано: {cost}; осталось: {credits}. "
        "Сообщу, когда обучение начнётся."
    ),
    "training_started": (
        "Обучение «{name}» началось. Это займёт около {minutes} мин; я напишу, когда модель "
        "будет готова."
    ),
    "model_ready": "Ваша модель «{name}» готова! Нажмите ниже, чтобы создать изображения.",
    "model_failed": "Не удалось обучить «{name}»: {reason}",
    "refunded": "Возвращено на баланс: {credits}.",
    "no_models": "У вас пока нет моделей. Создайте её командой /train.",
    "models_training": "Модель ещё обучается ({eta}). Я напишу, когда она будет готова.",
    "choose_model": "Какую модель использовать?",
    "generate_no_credits": "Для генерации нужно {need}, а у вас {have}. Ничего не списано.",
    "ask_prompt": (
        "Опишите картинку с «{name}», например: «портрет в солнечной студии, плёночное фото». "
        "/cancel — отменить."
    ),
    "prompt_empty": "Описание не может быть пустым.",
    "prompt_too_long": "Слишком длинное описание: не больше {limit} символов.",
    "prompt_not_text": "Пришлите описание текстом.",
    "generation_queued": ("Создаю {images} с «{name}»… Списано: {cost}; осталось: {credits}."),
    "generation_done": "Готово! «{prompt}»",
    "generate_more": "Ещё изображения с «{name}»?",
    "generation_failed": "Не удалось создать изображения: {reason}",
    "model_not_found": "Не нахожу такую модель.",
    "model_not_ready": "Эта модель ещё не готова.",
    "models_header": "Ваши модели:",
    "model_line_ready": "✅ {name} ({class_label}) — готова",
    "model_line_training": "⏳ {name} ({class_label}) — обучается, {eta}",
    "model_line_failed": "❌ {name} ({class_label}) — ошибка",
    "eta_minutes": "осталось около {minutes} мин",
    "eta_soon": "почти готово",
    "eta_unknown": "начинается",
    "reason_photos_unavailable": "Telegram больше не отдаёт эти фото. Пришлите их заново.",
    "reason_photos_lost": "фото потерялись при перезапуске сервера. Загрузите их заново.",
    "reason_duplicate_photos": "два фото — это один и тот же снимок. Запустите /train ещё раз "
    "с 4 разными фото.",
    "reason_astria_unavailable": "сервис ИИ сейчас недоступен. Попробуйте позже.",
    "reason_astria": "сервис ИИ отклонил запрос ({detail}).",
    "reason_other": "что-то пошло не так ({detail}).",
    "btn_generate": "🎨 Создать: {name}",
    "btn_generate_again": "🎨 Ещё раз",
    "btn_train": "➕ Новая модель",
    "btn_open_app": "📱 Открыть приложение",
    "btn_open_model": "🖼 Открыть в приложении",
    "class_man": "Мужчина",
    "class_woman": "Женщина",
    "class_person": "Человек",
    "class_boy": "Мальчик",
    "class_girl": "Девочка",
    "class_dog": "Собака",
    "class_cat": "Кошка",
    "cmd_start": "Начать сначала",
    "cmd_help": "Что я умею",
    "cmd_train": "Создать модель по 4 фото",
    "cmd_generate": "Создать изображения с собой",
    "cmd_models": "Ваши модели",
    "cmd_credits": "Баланс и цены",
    "cmd_cancel": "Прервать текущий шаг",
    "cmd_delete": "Удалить мои данные",
    "delete_confirm": (
        "Удалить всё? Ваши модели (и на Astria), изображения, кредиты и история исчезнут навсегда."
    ),
    "btn_delete_yes": "🗑 Удалить всё",
    "btn_delete_no": "Оставить",
    "delete_done": "Готово: все ваши данные удалены. Отправьте /start, чтобы начать заново.",
    "delete_kept": "Ничего не удалено.",
    "delete_failed": "Сейчас не удалось удалить ваши модели на Astria, поэтому ничего не удалено. "
    "Попробуйте позже.",
    "stats": (
        "Пользователей: {users}\nМоделей: {models} (готовы: {models_ready})\n"
        "Генераций: {generations}\nПотрачено кредитов сегодня: {spent_since}"
    ),
    "grant_usage": "Формат: /grant <telegram_id> <кредиты>",
    "grant_done": "Начислено {credits} пользователю {telegram_id}; теперь баланс {balance}.",
    "grant_repeat": "Это начисление уже сделано.",
    "grant_unknown": "Пользователя {telegram_id} нет.",
    "menu_app": "Приложение",
}

LANGUAGES = {"en": EN, "ru": RU}


def language_of(language_code: str | None) -> str:
    """Telegram's `language_code` (e.g. 'ru', 'ru-RU', 'en-US') → one we speak, English fallback."""
    base = (language_code or "").split("-")[0].lower()
    return base if base in LANGUAGES else "en"


def plural(lang: str, n: int, forms: tuple[str, ...]) -> str:
    """`n` with the right word form: English (one, many); Russian (one, few, many)."""
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            word = forms[0]
        elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            word = forms[1]
        else:
            word = forms[2]
    else:
        word = forms[0] if n == 1 else forms[1]
    return f"{n} {word}"


CREDIT_FORMS = {"en": ("credit", "credits"), "ru": ("кредит", "кредита", "кредитов")}
IMAGE_FORMS = {"en": ("image", "images"), "ru": ("изображение", "изображения", "изображений")}


class Texts:
    """The texts of one language; `t("key", **params)` formats one."""

    def __init__(self, language_code: str | None) -> None:
        self.lang = language_of(language_code)
        self._texts = LANGUAGES[self.lang]

    def __call__(self, key: str, **params) -> str:
        """The text under `key`, in this language (English if missing), filled in."""
        template = self._texts.get(key) or EN[key]
        return template.format(**params) if params else template

    def credits(self, n: int) -> str:
        """A number of credits with the right word: 1 credit, 3 credits, 3 кредита."""
        return plural(self.lang, n, CREDIT_FORMS[self.lang])

    def images(self, n: int) -> str:
        """A number of images with the right word: 1 image, 5 изображений."""
        return plural(self.lang, n, IMAGE_FORMS[self.lang])
