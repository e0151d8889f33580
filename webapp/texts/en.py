"""English: what the bot says (the fallback for every other language)."""

from __future__ import annotations


def plural(n: int) -> int:
    """Which word form goes with n: one, many."""
    return 0 if n == 1 else 1


WORDS = {
    "credit": ("credit", "credits"),
    "image": ("image", "images"),
    "star": ("Star", "Stars"),
    "training": ("training", "trainings"),
    "generation": ("generation", "generations"),
    "photo": ("new photo", "new photos"),
    "day": ("day", "days"),
}

TEXTS = {
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
        "/photoshoot — a set of pictures of you in one look\n"
        "/models — your models and how they are doing\n"
        "/credits — your balance and prices\n"
        "/buy — buy credits with Telegram Stars; /plan — a monthly plan\n"
        "/cancel — stop what we are doing\n"
        "/delete — delete your models, images and data\n"
        "/help — this list\n"
        "/paysupport — help with a payment; /terms — the terms of sale\n\n"
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
        "You have {credits}. /cancel to stop.\n\nThe kind of model (tap to change):\n{types}"
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
    "photo_too_big": "That picture is too large (over {limit_mb} MB or {megapixels} megapixels). "
    "Please send a smaller photo.",
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
    "choose_class_hint": "Please choose who is in the photos with the buttons below.",
    "class_chosen": "Model “{name}” — {class_label}.",
    "train_queued": (
        "Uploading your photos to start training “{name}”. {cost} spent; "
        "{credits} left. I'll tell you when training starts."
    ),
    "astria_slow_model": (
        "The AI service is not answering right now, so training “{name}” is taking longer. I "
        "keep trying for up to {minutes} minutes; if it still cannot start, your credits come "
        "back."
    ),
    "astria_slow_generation": (
        "The AI service is not answering right now, so your images with “{name}” are taking "
        "longer. I keep trying for up to {minutes} minutes; if they still cannot be made, your "
        "credits come back."
    ),
    "train_queued_instant": (
        "Making your instant model “{name}”. {cost} spent; {credits} left. It will be ready in "
        "about a minute."
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
    # /photoshoot
    "photoshoot_list": "Photoshoots: pick a look and get a whole set of pictures of yourself.",
    "photoshoot_card": "{title}\n{description}\n{images} · {price}",
    "btn_photoshoot_pick": "📸 {title}",
    "photoshoot_none": "No photoshoots are on offer right now. Please try again later.",
    "photoshoot_samples": "“{title}”: {images} for {price}. Above are some of its pictures.",
    "photoshoot_no_model": (
        "A photoshoot is made with your own model: send 4 photos and it starts by itself once "
        "the model is ready."
    ),
    "photoshoot_choose_model": "Which model should “{title}” use?",
    "photoshoot_confirm": "“{title}” with “{name}”: {images} for {price}. You have {credits}.",
    "photoshoot_when_ready": "It starts by itself when “{name}” is ready.",
    "btn_photoshoot_start": "▶️ Start for {price}",
    "photoshoot_started": (
        "Photoshoot “{title}” started with “{name}”: {images} are on their way. {price} spent; "
        "{credits} left."
    ),
    "photoshoot_progress": "Photoshoot “{title}”: {ready} of {total} ready…",
    "photoshoot_done": "Photoshoot “{title}” is complete: {images}.",
    "photoshoot_partial": "Photoshoot “{title}” is over: {ready} of {total} pictures came.",
    "photoshoot_failed": "I couldn't run the photoshoot “{title}”.",
    "photoshoot_album": "“{title}”",
    "photoshoot_gone": "That photoshoot is no longer offered. See /photoshoot for today's.",
    "photoshoot_class": "This photoshoot is not made for that model.",
    "photoshoot_no_credits": (
        "This photoshoot costs {need} and you have {have}. Nothing was charged."
    ),
    "btn_photoshoots": "📸 Photoshoots",
    "astria_slow_shoot": (
        "The AI service is not answering right now, so your photoshoot “{name}” is taking "
        "longer. I keep trying for up to {minutes} minutes; if it still cannot start, your "
        "credits come back."
    ),
    "liked": "👍 Liked{which}: more like it will come first.",
    "unliked": "Like{which} taken back.",
    "like_gone": "That picture is no longer here.",
    "btn_photoshoot_train": "🧑‍🎨 Create a model for it · {price}",
    "photoshoot_after_training": (
        "When “{name}” is ready, the photoshoot “{title}” starts by itself. {price} spent; "
        "{credits} left."
    ),
    "photoshoot_not_for_model": (
        "The photoshoot could not be ordered for “{name}” (it is not made for this kind of "
        "model, or no longer offered); nothing was charged for it. See /photoshoot."
    ),
    "cmd_photoshoot": "A set of pictures in one look",
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
    "reason_style_gone": "that style is no longer offered. Please pick another one.",
    "reason_interrupted": "something went wrong on our side. Please try again.",
    "reason_model_failed": "its model could not be trained.",
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
        "gone for good. A monthly plan stops renewing; records of payments are kept."
    ),
    "btn_delete_yes": "🗑 Delete everything",
    "btn_delete_no": "Keep my data",
    "delete_done": "Done: all your data is deleted. Send /start if you want to begin again.",
    "delete_kept": "Nothing was deleted.",
    "delete_failed": "I couldn't delete your models on Astria right now, so nothing was deleted. "
    "Please try again later.",
    "stats": (
        "Users: {users}\nModels: {models} ({models_ready} ready)\nGenerations: {generations}\n"
        "Credits spent today: {spent_since}\n"
        "Stars earned: {stars_earned} (refunded: {stars_refunded}), paying users: {paying_users}"
    ),
    "grant_usage": "Usage: /grant <telegram_id> <credits>",
    "grant_done": "Granted {credits} to {telegram_id}; their balance is now {balance}.",
    "grant_unknown": "There is no user {telegram_id}.",
    "menu_app": "App",
    "cmd_buy": "Buy credits",
    "cmd_paysupport": "Help with a payment",
    "cmd_terms": "Terms of sale",
    "buy": (
        "Credits for Telegram Stars. Training a model costs {train}, a generation ({images}) "
        "{generate}. You have {credits}.\n\n{packs}"
    ),
    "buy_off": "Credits are not on sale at the moment.",
    "buy_off_plan": "Packs of credits are not on sale; /plan has the monthly plan.",
    "btn_pack": "{credits} — ⭐️ {stars}",
    "pack_worth": "{trainings} or {generations}",
    "pack_line": "• {credits} for ⭐️ {stars}: {worth}",
    "invoice_title": "{credits}",
    "invoice_description": "{credits} for AI photos of yourself: {worth}.",
    "invoice_label": "{credits}",
    "precheckout_unknown_order": "This invoice is not ours any more. Start again: /buy or /plan.",
    "precheckout_not_yours": "This invoice was made for someone else. Get yours: /buy or /plan.",
    "precheckout_already_paid": "This invoice is already paid. /buy or /plan makes a new one.",
    "precheckout_changed": "The price has changed. Please start again: /buy or /plan.",
    "paid": "Thank you! {credits} added. You have {balance}.",
    "paid_unmatched": (
        "Your payment arrived, but I could not match it to a pack. Nothing is lost: write "
        "/paysupport and we will settle it."
    ),
    "paysupport": (
        "Help with a payment: write /paysupport followed by what happened (the date and the pack "
        "help), and it reaches the people who run this bot; they answer here.{contact}\n\n"
        "Purchases can be refunded within {days} if the credits are unused; Telegram "
        "returns the Stars."
    ),
    "paysupport_contact": "\nOr write to {contact}.",
    "paysupport_sent": "Sent. We will answer you here.",
    "paysupport_admin": (
        "Payment question from {user} (id {telegram_id}):\n{text}\n\nTheir payments: {payments}\n"
        "Answer with /reply {telegram_id} <text>"
    ),
    "terms": (
        "Terms of sale\n\n"
        "• You buy credits for Telegram Stars; they are spent on trainings and generations at the "
        "prices /credits shows, and never expire.\n"
        "• A training or generation that fails is refunded in credits automatically.\n"
        "• Unused credits can be refunded within {days} of purchase: write /paysupport.\n"
        "• /delete removes your models, images and data; records of payments are kept for "
        "refunds and accounting.\n"
        "• The images are made by AI (Astria) from your photos; use them lawfully and only with "
        "photos of yourself or people who agreed."
    ),
    "refund_usage": "Usage: /refund <telegram_payment_charge_id>",
    "refund_unknown": "There is no payment with that charge id.",
    "refund_already": "That payment was refunded already.",
    "refund_spent": (
        "The user bought {credits} with it and has {have} left. Refund the {stars} anyway and "
        "take back what is left?"
    ),
    "btn_refund_anyway": "Refund anyway",
    "refund_refused": "Telegram did not refund it: {reason}",
    "refund_done": "Refunded {stars} to {telegram_id}; {taken} taken back.",
    "refunded_to_user": (
        "Your payment of {stars} was refunded; {taken} were taken back. You have {balance}."
    ),
    "cmd_plan": "Monthly plan",
    "plan_off": "There is no monthly plan at the moment. /buy has packs of credits.",
    "plan_offer": (
        "Monthly plan: {credits} every 30 days for ⭐️ {stars} ({worth}). It renews by itself; "
        "cancel any time with /plan."
    ),
    "btn_plan_subscribe": "⭐️ Subscribe: {stars} a month",
    "plan_title": "{credits} a month",
    "plan_description": "{credits} every 30 days for AI photos of yourself. Cancel any time.",
    "plan_active": "Your plan: {credits} every 30 days. The next payment and credits: {date}.",
    "plan_canceled": "Your plan is canceled: it ends on {date} and will not renew.",
    "btn_plan_cancel": "Cancel the plan",
    "btn_plan_resume": "Resume the plan",
    "plan_failed": "Telegram could not change the plan just now ({reason}). Try again later.",
    "paid_plan": "Thank you! {credits} added; the next ones come on {date}. You have {balance}.",
    "choose_style": (
        "Pick a style for “{name}” ({cost} each), or just write what you would like to see."
    ),
    "btn_own_prompt": "✍️ Describe my own",
    "btn_more": "🔁 More · {cost}",
    "btn_another_style": "🎨 Another style",
    "btn_more_hd": "✨ More in HD · {cost}",
    "style_gone": "That style is no longer offered. Pick another one:",
    "finish_train_first": "You are in the middle of /train: send the rest of it first, or "
    "/cancel it. A style can be picked meanwhile.",
    "type_lora": "🎯 Best likeness · {cost}",
    "type_faceid": "⚡ Instant · {cost}",
    "type_pti": "🎯 Trained · {cost}",
    "type_checkpoint": "🎯 Trained · {cost}",
    "type_lora_about": "🎯 Best likeness: trained on your photos, ready in 20–30 minutes.",
    "type_faceid_about": "⚡ Instant: ready in about a minute, a little less like you (FaceID).",
    "type_pti_about": "🎯 Trained on your photos, ready in 20–30 minutes.",
    "type_checkpoint_about": "🎯 Trained on your photos, ready in 20–30 minutes.",
    "invoice_unavailable": "Telegram couldn't make the invoice just now. Please try again soon.",
    "problem_blurry": "blurry",
    "problem_several_people": "more than one person",
    "problem_sunglasses": "sunglasses",
    "problem_hat": "a hat",
    "problem_other_class": "not who you said is in the photos",
    "photo_flagged": (
        "⚠️ Photo {number}: {problems}. It would train badly; I'll ask you to replace it "
        "before anything is charged."
    ),
    "photo_problem_line": "• Photo {n}: {problems}",
    "photos_to_replace": (
        "Nothing was charged: a check found photos that would train badly:\n{lines}\n"
        "Send {photos} to replace them."
    ),
    "paysupport_nobody": "Questions cannot be passed on from here at the moment.{contact}",
    "reply_usage": "Usage: /reply <telegram_id> <text>",
    "reply_done": "Sent to {telegram_id}.",
    "reply_failed": "Could not reach {telegram_id}: they blocked the bot or never wrote to it.",
    "support_reply": "Support: {text}",
}

# What the Mini App says. "{name}" fields are filled in by the page; a dict of plural categories
# (Unicode's: one, few, many, other) picks the form that goes with {n}.
APP = {
    "myModels": "My models",
    "credits": {"one": "{n} credit", "other": "{n} credits"},
    "newModel": "New model",
    "createModel": "Create model",
    "noModels": "No models yet",
    "noModelsText": "Upload {photos} photos of yourself and we'll train your personal AI model.",
    "ready": "Ready",
    "training": "Training",
    "failed": "Failed",
    "minutes": "about {minutes} min left",
    "soon": "finishing up…",
    "starting": "starting…",
    "closeHint": "You can close the app, we'll message you in the chat when it's ready.",
    "photos": "Photos",
    "photoN": "Photo {n}",
    "photoTips": "Face clearly visible, different angles and light, only you in the frame, "
    "no sunglasses.",
    "name": "Name",
    "namePh": "e.g. Me, summer 2026",
    "who": "Who is in the photos",
    "classes": {
        "man": "Man",
        "woman": "Woman",
        "person": "Person",
        "boy": "Boy",
        "girl": "Girl",
        "dog": "Dog",
        "cat": "Cat",
    },
    "startTraining": "Start training · {price}",
    "needPhotos": {"one": "Add {n} more photo", "other": "Add {n} more photos"},
    "needName": "Give your model a name",
    "needClass": "Choose who is in the photos",
    "notEnough": "Not enough credits",
    "notEnoughText": "This costs {price}; you have {balance}.",
    "costLine": "This model costs {price}; you have {balance}.",
    "notImage": "Not a photo. Pick a JPEG, PNG or WebP image.",
    "tooSmall": "Too small ({width}×{height}). At least {min_side} px on each side.",
    "tooBig": "This photo is too large. Pick another one.",
    "tapRetry": "Tap to pick another",
    "duplicate": "You already picked this photo.",
    "uploading": "Uploading… {percent}%",
    "started": "Training started",
    "genFor": "Generate",
    "styles": "Styles",
    "kind": "Kind of model",
    "problems": {
        "blurry": "Blurry",
        "several_people": "More than one person",
        "sunglasses": "Sunglasses",
        "hat": "A hat",
        "other_class": "Not who you chose",
    },
    "typeNames": {
        "lora": "🎯 Best likeness",
        "faceid": "⚡ Instant",
        "pti": "🎯 Trained",
        "checkpoint": "🎯 Trained",
    },
    "typeAbout": {
        "lora": "trained on your photos, 20–30 min",
        "faceid": "ready in a minute, a little less alike",
        "pti": "trained on your photos, 20–30 min",
        "checkpoint": "trained on your photos, 20–30 min",
    },
    "hd": "HD",
    "hdHint": "Sharper, with refined faces · +{price}",
    "moreLike": "More like this",
    "promptPh": "Describe a scene…",
    "generate": "Generate · {price}",
    "genCost": "This costs {price}; you have {balance}.",
    "generating": "Generating…",
    "firstImages": "Your first images will appear here",
    "firstImagesText": "Pick a style above, or describe a scene.",
    "pickHint": "Pick a style or describe a scene.",
    "checkTitle": "Check your photos",
    "trainingTitle": "Training your model",
    "failedTitle": "Training failed",
    "refunded": "The {credits} it cost went back to your balance.",
    "genFailed": "Failed · refunded",
    "loadFailed": "Couldn't load",
    "tryAgain": "Try again",
    "offline": "No connection. Try again.",
    "openInTelegram": "Open this app from the bot in Telegram.",
    "download": "Download",
    "share": "Share",
    "of": "of",
    "dev": "Dev mode: a dev user, in a page that plays Telegram",
    "error": "Something went wrong",
    "deleteData": "Delete my data",
    "deleteTitle": "Delete everything?",
    "deleteText": "Your models (also on Astria), images, credits and history will be gone for "
    "good.",
    "deleteYes": "Delete",
    "deleted": "All your data is deleted.",
    # Why the server refused, by the reason it names; fields come with the refusal and /me's limits.
    "buyTitle": "Buy credits",
    "buyLead": "You have {balance}. A model costs {train}, a generation {generate}.",
    "packWorth": "{trainings} or {generations}",
    "trainings": {"one": "{n} training", "other": "{n} trainings"},
    "generations": {"one": "{n} generation", "other": "{n} generations"},
    "buyFoot": "Paid with Telegram Stars. Credits never expire. Help with a payment or a refund: "
    "/paysupport in the chat.",
    "notSelling": "Credits are not on sale at the moment",
    "updateTelegram": "Update Telegram to pay in the app, or use /buy in the chat.",
    "payCancelled": "Payment cancelled. Nothing was charged.",
    "payFailed": "The payment did not go through. Nothing was charged.",
    "paidWaiting": "Payment received. Adding your credits…",
    "payPending": "Your payment is being processed…",
    "buyCredits": "Buy credits",
    "paid": "{credits} added. Thank you!",
    "paidSlow": "Your payment is being recorded; the credits will appear in a minute. The bot "
    "will also confirm it in the chat.",
    "like": "Like",
    "yourImages": "Your images",
    "photoshoots": "Photoshoots",
    "photoshootsLead": "Pick a look and get a whole set of pictures of yourself.",
    "pictures": {"one": "{n} picture", "other": "{n} pictures"},
    "shootMeta": "{pictures} · {price}",
    "noPhotoshoots": "No photoshoots right now",
    "noPhotoshootsText": "Please look in again later.",
    "shootWith": "With model",
    "shootSamples": "Sample pictures",
    "shootNoModel": "A photoshoot is made with your model",
    "shootNoModelText": "Create one from {photos} photos first; it takes about 20 minutes.",
    "shootNoClass": "This photoshoot has no pictures for your models.",
    "shootStart": "Start · {pictures} · {price}",
    "shootStarted": "Photoshoot started: pictures arrive in the chat and here",
    "shootProgress": "{ready} of {total} ready",
    "shootAfterTraining": "The photoshoot starts by itself once the model is ready.",
    "shootDone": "Done",
    "shootRefunded": "{credits} returned",
    "reasons": {
        "photoshoot_class": "This photoshoot is not made for that model.",
        "name_empty": "The name can't be empty.",
        "name_too_long": "The name is too long ({name_max} characters at most).",
        "prompt_empty": "Describe the picture first.",
        "prompt_too_long": "The description is too long ({prompt_max} characters at most).",
        "photo_count": "Pick exactly {photos} photos.",
        "too_big": "Photo {photo} is too large. Pick another one.",
        "not_image": "Photo {photo} is not a JPEG, PNG or WebP image.",
        "unreadable": "Photo {photo} can't be read: the file is damaged.",
        "too_small": "Photo {photo} is too small; each side must be at least {min_side} px.",
        "duplicate_photos": "Two of the photos are the same picture. Pick {photos} different ones.",
        "photo_problems": "Some photos would train badly. Replace the marked ones; nothing was "
        "charged.",
        "selling_off": "Credits are not on sale at the moment.",
        "no_telegram": "Payments work only inside Telegram (this is dev mode).",
        "unknown_pack": "That pack is no longer sold. Pick another one.",
        "payment_unavailable": "Telegram could not make the invoice just now. Try again.",
        "unknown_style": "That style is no longer offered. Pick another one.",
        "model_type_unknown": "That kind of model is not offered. Pick another one.",
        "class_unknown": "Choose who is in the photos.",
    },
}
