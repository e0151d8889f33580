"""Russian: what the bot says."""

from __future__ import annotations


def plural(n: int) -> int:
    """Which word form goes with n: one (1, 21), few (2–4, 22–24), many (5–20, 25…)."""
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


WORDS = {
    "credit": ("кредит", "кредита", "кредитов"),
    "image": ("изображение", "изображения", "изображений"),
    "star": ("звезда", "звезды", "звёзд"),
    "training": ("обучение", "обучения", "обучений"),
    "generation": ("генерация", "генерации", "генераций"),
    "photo": ("новое фото", "новых фото", "новых фото"),
    "day": ("дня", "дней", "дней"),
}

TEXTS = {
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
        "/photoshoot — серия ваших фото в одном образе\n"
        "/models — ваши модели и их состояние\n"
        "/credits — баланс и цены\n"
        "/buy — купить кредиты за Telegram Stars; /plan — подписка\n"
        "/cancel — прервать текущее действие\n"
        "/delete — удалить ваши модели, изображения и данные\n"
        "/help — этот список\n"
        "/paysupport — помощь с оплатой; /terms — условия продажи\n\n"
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
        "У вас {credits}. /cancel — отменить.\n\nТип модели (нажмите, чтобы сменить):\n{types}"
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
    "photo_too_big": "Слишком большое изображение (больше {limit_mb} МБ или {megapixels} Мп). "
    "Пришлите фото поменьше.",
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
    "choose_class_hint": "Выберите, кто на фото, кнопками ниже.",
    "class_chosen": "Модель «{name}» — {class_label}.",
    "train_queued": (
        "Загружаю фото, чтобы начать обучение «{name}». Списано: {cost}; осталось: {credits}. "
        "Сообщу, когда обучение начнётся."
    ),
    "astria_slow_model": (
        "Сервис ИИ сейчас не отвечает, поэтому обучение «{name}» задерживается. Я пробую снова "
        "до {minutes} минут; если так и не получится, кредиты вернутся."
    ),
    "astria_slow_generation": (
        "Сервис ИИ сейчас не отвечает, поэтому изображения с «{name}» задерживаются. Я пробую "
        "снова до {minutes} минут; если так и не получится, кредиты вернутся."
    ),
    "train_queued_instant": (
        "Создаю мгновенную модель «{name}». Списано: {cost}; осталось: {credits}. Будет готова "
        "примерно через минуту."
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
    # /photoshoot
    "photoshoot_list": "Фотосессии: выберите образ и получите целую серию своих фото.",
    "photoshoot_card": "{title}\n{description}\n{images} · {price}",
    "btn_photoshoot_pick": "📸 {title}",
    "photoshoot_none": "Сейчас фотосессий нет. Попробуйте позже.",
    "photoshoot_samples": "«{title}»: {images} за {price}. Выше — примеры из неё.",
    "photoshoot_no_model": (
        "Фотосессия делается с вашей моделью: пришлите 4 фото, и она начнётся сама, как только "
        "модель будет готова."
    ),
    "photoshoot_choose_model": "С какой моделью сделать «{title}»?",
    "photoshoot_confirm": "«{title}» с моделью «{name}»: {images} за {price}. У вас {credits}.",
    "photoshoot_when_ready": "Она начнётся сама, когда «{name}» будет готова.",
    "btn_photoshoot_start": "▶️ Начать за {price}",
    "photoshoot_started": (
        "Фотосессия «{title}» с моделью «{name}» началась: {images} уже в работе. Списано: "
        "{price}; осталось: {credits}."
    ),
    "photoshoot_progress": "Фотосессия «{title}»: готово {ready} из {total}…",
    "photoshoot_done": "Фотосессия «{title}» готова: {images}.",
    "photoshoot_partial": "Фотосессия «{title}» завершена: пришло {ready} из {total} фото.",
    "photoshoot_failed": "Не удалось провести фотосессию «{title}».",
    "photoshoot_album": "«{title}»",
    "photoshoot_gone": "Этой фотосессии больше нет. Актуальные — в /photoshoot.",
    "photoshoot_class": "Эта фотосессия не подходит для этой модели.",
    "photoshoot_no_credits": "Фотосессия стоит {need}, а у вас {have}. Ничего не списано.",
    "btn_photoshoots": "📸 Фотосессии",
    "astria_slow_shoot": (
        "AI-сервис сейчас не отвечает, поэтому фотосессия «{name}» задерживается. Я пробую ещё "
        "до {minutes} мин; если начать так и не получится, кредиты вернутся."
    ),
    "liked": "👍 Нравится{which}: похожее будет выше в списках.",
    "unliked": "Отметка{which} снята.",
    "like_gone": "Этого снимка уже нет.",
    "btn_photoshoot_train": "🧑‍🎨 Создать модель для неё · {price}",
    "photoshoot_after_training": (
        "Когда «{name}» будет готова, фотосессия «{title}» начнётся сама. Списано: {price}; "
        "осталось: {credits}."
    ),
    "photoshoot_not_for_model": (
        "Фотосессию не удалось заказать для «{name}» (она не для такой модели или её больше "
        "нет); за неё ничего не списано. См. /photoshoot."
    ),
    "cmd_photoshoot": "Серия фото в одном образе",
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
    "reason_style_gone": "этого стиля больше нет. Выберите другой.",
    "reason_interrupted": "у нас что-то пошло не так. Попробуйте ещё раз.",
    "reason_model_failed": "её модель не удалось обучить.",
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
        "Удалить всё? Ваши модели (и на Astria), изображения, кредиты и история исчезнут навсегда. "
        "Подписка перестанет продлеваться; записи об оплатах сохраняются."
    ),
    "btn_delete_yes": "🗑 Удалить всё",
    "btn_delete_no": "Оставить",
    "delete_done": "Готово: все ваши данные удалены. Отправьте /start, чтобы начать заново.",
    "delete_kept": "Ничего не удалено.",
    "delete_failed": "Сейчас не удалось удалить ваши модели на Astria, поэтому ничего не удалено. "
    "Попробуйте позже.",
    "stats": (
        "Пользователей: {users}\nМоделей: {models} (готовы: {models_ready})\n"
        "Генераций: {generations}\nПотрачено кредитов сегодня: {spent_since}\n"
        "Заработано звёзд: {stars_earned} (возвращено: {stars_refunded}), платящих: {paying_users}"
    ),
    "grant_usage": "Формат: /grant <telegram_id> <кредиты>",
    "grant_done": "Начислено {credits} пользователю {telegram_id}; теперь баланс {balance}.",
    "grant_unknown": "Пользователя {telegram_id} нет.",
    "menu_app": "Приложение",
    "cmd_buy": "Купить кредиты",
    "cmd_paysupport": "Помощь с оплатой",
    "cmd_terms": "Условия продажи",
    "buy": (
        "Кредиты за Telegram Stars. Обучение модели стоит {train}, генерация ({images}) — "
        "{generate}. У вас {credits}.\n\n{packs}"
    ),
    "buy_off": "Сейчас кредиты не продаются.",
    "buy_off_plan": "Пакеты кредитов не продаются; в /plan есть подписка на месяц.",
    "btn_pack": "{credits} — ⭐️ {stars}",
    "pack_worth": "{trainings} или {generations}",
    "pack_line": "• {credits} за ⭐️ {stars}: {worth}",
    "invoice_title": "{credits}",
    "invoice_description": "{credits} на ИИ-фото с вами: {worth}.",
    "invoice_label": "{credits}",
    "precheckout_unknown_order": "Этот счёт больше не действует. Начните заново: /buy или /plan.",
    "precheckout_not_yours": "Этот счёт выписан другому человеку. Свой — через /buy или /plan.",
    "precheckout_already_paid": "Этот счёт уже оплачен. Новый — через /buy или /plan.",
    "precheckout_changed": "Цена изменилась. Начните заново: /buy или /plan.",
    "paid": "Спасибо! Начислено: {credits}. У вас {balance}.",
    "paid_unmatched": (
        "Оплата пришла, но я не смог сопоставить её с пакетом. Ничего не потеряно: напишите "
        "/paysupport, и мы всё уладим."
    ),
    "paysupport": (
        "Помощь с оплатой: напишите /paysupport и что случилось (дата и пакет помогут) — "
        "сообщение получат те, кто ведёт этого бота; ответ придёт сюда.{contact}\n\n"
        "Покупку можно вернуть в течение {days}, если кредиты не потрачены; Telegram "
        "вернёт звёзды."
    ),
    "paysupport_contact": "\nИли напишите {contact}.",
    "paysupport_sent": "Отправлено. Мы ответим здесь.",
    "paysupport_admin": (
        "Вопрос об оплате от {user} (id {telegram_id}):\n{text}\n\nЕго платежи: {payments}\n"
        "Ответить: /reply {telegram_id} <текст>"
    ),
    "terms": (
        "Условия продажи\n\n"
        "• Вы покупаете кредиты за Telegram Stars; они тратятся на обучение и генерации по "
        "ценам из /credits и не сгорают.\n"
        "• Если обучение или генерация не удались, кредиты возвращаются автоматически.\n"
        "• Неиспользованные кредиты можно вернуть в течение {days} после покупки: "
        "напишите /paysupport.\n"
        "• /delete удаляет ваши модели, изображения и данные; записи об оплатах хранятся для "
        "возвратов и учёта.\n"
        "• Изображения создаёт ИИ (Astria) по вашим фото; используйте их законно и только с фото "
        "себя или людей, которые согласились."
    ),
    "refund_usage": "Формат: /refund <telegram_payment_charge_id>",
    "refund_unknown": "Платежа с таким charge id нет.",
    "refund_already": "Этот платёж уже возвращён.",
    "refund_spent": (
        "Пользователь купил {credits}, осталось {have}. Всё равно вернуть {stars} и списать "
        "остаток?"
    ),
    "btn_refund_anyway": "Всё равно вернуть",
    "refund_refused": "Telegram не вернул платёж: {reason}",
    "refund_done": "Возвращено {stars} пользователю {telegram_id}; списано {taken}.",
    "refunded_to_user": "Ваш платёж ({stars}) возвращён; списано {taken}. У вас {balance}.",
    "cmd_plan": "Подписка на месяц",
    "plan_off": "Подписки сейчас нет. В /buy есть пакеты кредитов.",
    "plan_offer": (
        "Подписка: {credits} каждые 30 дней за ⭐️ {stars} ({worth}). Продлевается сама; "
        "отменить можно в любой момент через /plan."
    ),
    "btn_plan_subscribe": "⭐️ Подписаться: {stars} в месяц",
    "plan_title": "{credits} в месяц",
    "plan_description": "{credits} каждые 30 дней на ИИ-фото с вами. Отмена в любой момент.",
    "plan_active": "Ваша подписка: {credits} каждые 30 дней. Следующий платёж и кредиты: {date}.",
    "plan_canceled": "Подписка отменена: она закончится {date} и не продлится.",
    "btn_plan_cancel": "Отменить подписку",
    "btn_plan_resume": "Возобновить подписку",
    "plan_failed": "Telegram не смог изменить подписку ({reason}). Попробуйте позже.",
    "paid_plan": "Спасибо! Начислено: {credits}; следующие — {date}. У вас {balance}.",
    "choose_style": (
        "Выберите стиль для «{name}» ({cost} за раз) или просто напишите, что хотите увидеть."
    ),
    "btn_own_prompt": "✍️ Опишу сам",
    "btn_more": "🔁 Ещё · {cost}",
    "btn_another_style": "🎨 Другой стиль",
    "btn_more_hd": "✨ Ещё в HD · {cost}",
    "style_gone": "Этого стиля больше нет. Выберите другой:",
    "finish_train_first": "Вы ещё не закончили /train: сначала завершите его или отмените "
    "(/cancel). Стиль можно выбрать и сейчас.",
    "type_lora": "🎯 Максимальное сходство · {cost}",
    "type_faceid": "⚡ Мгновенная · {cost}",
    "type_pti": "🎯 Обученная · {cost}",
    "type_checkpoint": "🎯 Обученная · {cost}",
    "type_lora_about": "🎯 Максимальное сходство: обучается на ваших фото, 20–30 минут.",
    "type_faceid_about": "⚡ Мгновенная: готова примерно за минуту, сходство чуть меньше (FaceID).",
    "type_pti_about": "🎯 Обучается на ваших фото, 20–30 минут.",
    "type_checkpoint_about": "🎯 Обучается на ваших фото, 20–30 минут.",
    "invoice_unavailable": "Telegram не смог выставить счёт. Попробуйте через минуту.",
    "problem_blurry": "размыто",
    "problem_several_people": "больше одного человека",
    "problem_sunglasses": "тёмные очки",
    "problem_hat": "головной убор",
    "problem_other_class": "на фото не тот, кого вы выбрали",
    "photo_flagged": (
        "⚠️ Фото {number}: {problems}. Модель обучится плохо; перед оплатой я попрошу его заменить."
    ),
    "photo_problem_line": "• Фото {n}: {problems}",
    "photos_to_replace": (
        "Ничего не списано: проверка нашла фото, на которых модель обучится плохо:\n{lines}\n"
        "Пришлите {photos} на замену."
    ),
    "paysupport_nobody": "Сейчас вопросы отсюда передать нельзя.{contact}",
    "reply_usage": "Формат: /reply <telegram_id> <текст>",
    "reply_done": "Отправлено {telegram_id}.",
    "reply_failed": "Не удалось написать {telegram_id}: бот заблокирован или ему не писали.",
    "support_reply": "Поддержка: {text}",
}

# Что говорит Mini App (см. en.py: поля "{name}", формы множественного числа one/few/many/other).
APP = {
    "myModels": "Мои модели",
    "credits": {
        "one": "{n} кредит",
        "few": "{n} кредита",
        "many": "{n} кредитов",
        "other": "{n} кредита",
    },
    "newModel": "Новая модель",
    "createModel": "Создать модель",
    "noModels": "Пока нет моделей",
    "noModelsText": "Загрузите {photos} своих фото, и мы обучим вашу персональную ИИ-модель.",
    "ready": "Готова",
    "training": "Обучается",
    "failed": "Ошибка",
    "minutes": "осталось около {minutes} мин",
    "soon": "почти готово…",
    "starting": "начинается…",
    "closeHint": "Приложение можно закрыть: мы напишем в чат, когда модель будет готова.",
    "photos": "Фото",
    "photoN": "Фото {n}",
    "photoTips": "Лицо хорошо видно, разные ракурсы и свет, в кадре только вы, без тёмных очков.",
    "name": "Название",
    "namePh": "например, Я, лето 2026",
    "who": "Кто на фото",
    "classes": {
        "man": "Мужчина",
        "woman": "Женщина",
        "person": "Человек",
        "boy": "Мальчик",
        "girl": "Девочка",
        "dog": "Собака",
        "cat": "Кошка",
    },
    "startTraining": "Начать обучение · {price}",
    "needPhotos": "Добавьте ещё {n} фото",
    "needName": "Назовите модель",
    "needClass": "Выберите, кто на фото",
    "notEnough": "Недостаточно кредитов",
    "notEnoughText": "Стоимость: {price}; у вас: {balance}.",
    "costLine": "Эта модель стоит {price}; у вас {balance}.",
    "notImage": "Это не фото. Выберите JPEG, PNG или WebP.",
    "tooSmall": "Слишком маленькое ({width}×{height}). Нужно от {min_side} px по каждой стороне.",
    "tooBig": "Фото слишком большое. Выберите другое.",
    "tapRetry": "Нажмите, чтобы выбрать другое",
    "duplicate": "Это фото уже выбрано.",
    "uploading": "Загрузка… {percent}%",
    "started": "Обучение началось",
    "genFor": "Создать",
    "styles": "Стили",
    "kind": "Тип модели",
    "problems": {
        "blurry": "Размыто",
        "several_people": "Больше одного человека",
        "sunglasses": "Тёмные очки",
        "hat": "Головной убор",
        "other_class": "Не тот, кого вы выбрали",
    },
    "typeNames": {
        "lora": "🎯 Максимальное сходство",
        "faceid": "⚡ Мгновенная",
        "pti": "🎯 Обученная",
        "checkpoint": "🎯 Обученная",
    },
    "typeAbout": {
        "lora": "обучается на ваших фото, 20–30 мин",
        "faceid": "готова за минуту, сходство чуть меньше",
        "pti": "обучается на ваших фото, 20–30 мин",
        "checkpoint": "обучается на ваших фото, 20–30 мин",
    },
    "hd": "HD",
    "hdHint": "Чётче, с прорисованными лицами · +{price}",
    "moreLike": "Ещё такие",
    "promptPh": "Опишите сцену…",
    "generate": "Создать · {price}",
    "genCost": "Стоимость: {price}; у вас {balance}.",
    "generating": "Создаётся…",
    "firstImages": "Здесь появятся ваши изображения",
    "firstImagesText": "Выберите стиль выше или опишите сцену.",
    "pickHint": "Выберите стиль или опишите сцену.",
    "checkTitle": "Проверьте фото",
    "trainingTitle": "Модель обучается",
    "failedTitle": "Не удалось обучить",
    "refunded": "Списанное вернулось на баланс: {credits}.",
    "genFailed": "Ошибка · возвращено",
    "loadFailed": "Не удалось загрузить",
    "tryAgain": "Повторить",
    "offline": "Нет связи. Попробуйте ещё раз.",
    "openInTelegram": "Откройте приложение из бота в Telegram.",
    "download": "Скачать",
    "share": "Поделиться",
    "of": "из",
    "dev": "Режим разработки: тестовый пользователь, на странице, играющей роль Telegram",
    "error": "Что-то пошло не так",
    "deleteData": "Удалить мои данные",
    "deleteTitle": "Удалить всё?",
    "deleteText": "Ваши модели (и на Astria), изображения, кредиты и история исчезнут навсегда.",
    "deleteYes": "Удалить",
    "deleted": "Все ваши данные удалены.",
    "buyTitle": "Купить кредиты",
    "buyLead": "У вас {balance}. Модель стоит {train}, генерация — {generate}.",
    "packWorth": "{trainings} или {generations}",
    "trainings": {
        "one": "{n} обучение",
        "few": "{n} обучения",
        "many": "{n} обучений",
        "other": "{n} обучения",
    },
    "generations": {
        "one": "{n} генерация",
        "few": "{n} генерации",
        "many": "{n} генераций",
        "other": "{n} генерации",
    },
    "buyFoot": "Оплата в Telegram Stars. Кредиты не сгорают. Помощь с оплатой и возвраты: "
    "/paysupport в чате.",
    "notSelling": "Сейчас кредиты не продаются",
    "updateTelegram": "Обновите Telegram, чтобы платить в приложении, или купите через /buy.",
    "payCancelled": "Оплата отменена. Ничего не списано.",
    "payFailed": "Оплата не прошла. Ничего не списано.",
    "paidWaiting": "Оплата получена. Начисляем кредиты…",
    "payPending": "Платёж обрабатывается…",
    "buyCredits": "Купить кредиты",
    "paid": "Начислено: {credits}. Спасибо!",
    "paidSlow": "Платёж записывается; кредиты появятся через минуту. Бот также подтвердит "
    "оплату в чате.",
    "like": "Нравится",
    "yourImages": "Ваши изображения",
    "photoshoots": "Фотосессии",
    "photoshootsLead": "Выберите образ и получите целую серию своих фото.",
    "pictures": {"one": "{n} фото", "few": "{n} фото", "many": "{n} фото", "other": "{n} фото"},
    "shootMeta": "{pictures} · {price}",
    "noPhotoshoots": "Фотосессий пока нет",
    "noPhotoshootsText": "Загляните позже.",
    "shootWith": "С моделью",
    "shootSamples": "Примеры",
    "shootNoModel": "Фотосессия делается с вашей моделью",
    "shootNoModelText": "Сначала создайте её по {photos} фото — это около 20 минут.",
    "shootNoClass": "В этой фотосессии нет снимков для ваших моделей.",
    "shootStart": "Начать · {pictures} · {price}",
    "shootStarted": "Фотосессия началась: фото придут в чат и сюда",
    "shootProgress": "Готово {ready} из {total}",
    "shootAfterTraining": "Фотосессия начнётся сама, когда модель будет готова.",
    "shootDone": "Готово",
    "shootRefunded": "Возвращено: {credits}",
    "reasons": {
        "photoshoot_class": "Эта фотосессия не подходит для этой модели.",
        "name_empty": "Название не может быть пустым.",
        "name_too_long": "Слишком длинное название (до {name_max} символов).",
        "prompt_empty": "Сначала опишите картинку.",
        "prompt_too_long": "Слишком длинное описание (до {prompt_max} символов).",
        "photo_count": "Нужно ровно {photos} фото.",
        "too_big": "Фото {photo} слишком большое. Выберите другое.",
        "not_image": "Фото {photo} — не JPEG, PNG или WebP.",
        "unreadable": "Фото {photo} не читается: файл повреждён.",
        "too_small": "Фото {photo} слишком маленькое: нужно от {min_side} px по каждой стороне.",
        "duplicate_photos": "Два фото — один и тот же снимок. Выберите {photos} разных.",
        "photo_problems": "На некоторых фото модель обучится плохо. Замените отмеченные; ничего "
        "не списано.",
        "selling_off": "Сейчас кредиты не продаются.",
        "no_telegram": "Оплата работает только внутри Telegram (это режим разработки).",
        "unknown_pack": "Этот пакет больше не продаётся. Выберите другой.",
        "payment_unavailable": "Telegram не смог выставить счёт. Попробуйте ещё раз.",
        "unknown_style": "Этого стиля больше нет. Выберите другой.",
        "model_type_unknown": "Такой модели у нас нет. Выберите другую.",
        "class_unknown": "Выберите, кто на фото.",
    },
}
