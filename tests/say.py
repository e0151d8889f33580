"""Talk to the bot by hand, as a Telegram user would, without Telegram: each call posts one
update to the app's webhook (and, for a photo, first gives the Bot API stand-in the file).

    .venv/bin/python -m tests.say 4242 /train
    .venv/bin/python -m tests.say 4242 --photo me1.jpg      # a file of yours…
    .venv/bin/python -m tests.say 4242 --photo 900x900      # …or a made-up picture that size
    .venv/bin/python -m tests.say 4242 Kim                  # any text
    .venv/bin/python -m tests.say 4242 --tap cls:woman      # a button's callback data

The app at --app (http://127.0.0.1:8000) with TELEGRAM_WEBHOOK_SECRET --secret (local), the
stand-in (python -m tests.fake_telegram) at --telegram (http://127.0.0.1:8081). What the bot
answers in the webhook's own reply is printed here; everything else, by the stand-in.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

import requests

from tests import factories as f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("user", type=int, help="the Telegram user id (any positive number)")
    parser.add_argument("text", nargs="?", help="a message: a command or any text")
    parser.add_argument("--photo", help="a JPEG/PNG file to send, or WIDTHxHEIGHT")
    parser.add_argument("--tap", help="the callback data of a button to press")
    parser.add_argument("--lang", default="en", help="the user's language_code (en, ru…)")
    parser.add_argument("--app", default="http://127.0.0.1:8000")
    parser.add_argument("--telegram", default="http://127.0.0.1:8081")
    parser.add_argument("--secret", default="local")
    args = parser.parse_args()

    if args.photo:
        file_id = f"say-{int(time.time() * 1000)}"
        size = re.fullmatch(r"(\d+)x(\d+)", args.photo)
        if size:
            width, height = int(size[1]), int(size[2])
            shade = tuple(random.randrange(256) for _ in range(3))  # each call its own picture
            content = f.jpeg(width, height, color=shade)
        else:
            content = Path(args.photo).read_bytes()
            width = height = 1024  # what the stand-in says; the app reads the file itself
        put = requests.put(f"{args.telegram}/_files/{file_id}", data=content, timeout=10)
        put.raise_for_status()  # the stand-in serves it, and a preview as Telegram makes one
        update = f.photo(args.user, file_id, width, height, language_code=args.lang)
    elif args.tap:
        update = f.callback(args.user, args.tap, language_code=args.lang)
    elif args.text:
        update = f.message(args.user, args.text, language_code=args.lang)
    else:
        parser.error("say something: text, --photo or --tap")
    answer = requests.post(
        f"{args.app}/api/bot/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": args.secret},
        timeout=30,
    )
    print(f"webhook {answer.status_code}")
    reply = answer.json() if answer.text.strip().startswith("{") else None
    if reply:  # the call the webhook's answer carries, as the stand-in prints the others
        markup = reply.get("reply_markup") or {}
        buttons = [b.get("text") for row in markup.get("inline_keyboard", []) for b in row]
        print(f"[{reply.get('method')}] {reply.get('text', '')} {buttons or ''}".rstrip())


if __name__ == "__main__":
    main()
