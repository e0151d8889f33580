"""A stand-in for the Telegram Bot API served over real HTTP: it records every call and serves
files, so the real telebot runs over the wire in tests (TELEGRAM_API_URL points here)."""

from __future__ import annotations

import io
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, Response, jsonify, request
from PIL import Image
from werkzeug.serving import make_server

from webapp.clock import Clock


@dataclass
class Call:
    """One Bot API call as the stand-in received it."""

    method: str
    params: dict
    files: dict = field(default_factory=dict)
    error: int | None = None  # the error code the stand-in answered with, if it failed the call
    at: float = 0.0  # when it arrived (on FakeTelegram.clock)
    result: object = None  # what the stand-in answered, when it took the call
    test_env: bool = False  # made at /bot<token>/test/<method> (Telegram's test environment)

    @property
    def chat_id(self) -> int | None:
        """The chat the call addresses, if any."""
        value = self.params.get("chat_id")
        return int(value) if value not in (None, "") else None

    @property
    def text(self) -> str:
        """The text of a message call (empty for others)."""
        return self.params.get("text") or ""

    @property
    def reply_markup(self) -> dict:
        """The parsed inline keyboard, if any."""
        raw = self.params.get("reply_markup")
        return json.loads(raw) if isinstance(raw, str) else (raw or {})

    def buttons(self) -> list[dict]:
        """Every inline button of the call, flattened."""
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]


class Hold:
    """A point where the stand-in keeps a request waiting: `reached` once one waits there (with
    the port the app called from, to tell which process it is), until `release()`."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()
        self.ports: list[int] = []

    def wait(self, port: int) -> None:
        self.ports.append(port)
        self.reached.set()
        self.released.wait(60)

    def release(self) -> None:
        self.released.set()


class FakeTelegram:
    """The Bot API for one bot token; `calls` grows as the app talks to it."""

    def __init__(self, token: str, port: int = 0, clock: Clock | None = None) -> None:
        self.token = token
        self.clock = clock or Clock()  # `Call.at` and the flood limit are on it (tests.clock)
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.refuse_urls = False  # answer 400 to albums of URLs, as Telegram does for some hosts
        self.failures: list[dict] = []  # queued error answers, see fail()
        self.flood_limit: tuple[float, int] | None = None  # see enforce_flood_limit()
        self._chat_budget: dict[int, float] = {}
        self.invoices: dict[str, dict] = {}  # invoice links made, by slug
        self.charges: dict[str, dict] = {}  # Stars payments made (see charge()), by charge id
        self.holds: dict[str, Hold] = {}  # file downloads held until released (see hold_file())
        self.edited: dict[tuple[int, int], str] = {}  # (chat, message) → the text it was edited to
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self.app = self._build()
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()

    def webhook_answered(self, response, test_env: bool = False) -> None:
        """What Telegram does with a webhook's answer (a `requests` response): it makes the one
        Bot API call the answer may carry, {"method": …, parameters} as JSON, and drops the
        result (an error included); in its test environment for a test bot."""
        if response.status_code != 200 or "json" not in response.headers.get("Content-Type", ""):
            return
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("method"), str):
            params = {k: v for k, v in body.items() if k != "method"}
            with self.app.test_client() as client:  # as over HTTP, without a socket
                test = "/test" if test_env else ""
                client.post(f"/bot{self.token}{test}/{body['method']}", json=params)

    def fail(
        self,
        method: str,
        error_code: int,
        times: int = 1,
        retry_after: int | None = None,
        description: str = "",
        body: str | None = None,
        hang: float = 0.0,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` with a Bot API error (429, 403, …), or
        with `body` as is (an HTML error page, say), after `hang` seconds (0: at once). A
        hang with error_code 200 answers normally, late. `chat_id`: only calls to that chat."""
        self.failures.append(
            {
                "method": method,
                "code": error_code,
                "times": times,
                "retry_after": retry_after,
                "description": description,
                "body": body,
                "hang": hang,
                "chat_id": chat_id,
            }
        )

    def enforce_flood_limit(self, per_second: float = 1.0, burst: int = 5) -> None:
        """Answer like Telegram under load: a chat sent messages faster than `per_second` (after
        a burst of `burst`) gets 429 Too Many Requests with a `retry_after`."""
        self.flood_limit = (per_second, burst)

    def _flooded(self, call: Call) -> int | None:
        """The retry_after for a message that goes over the chat's limit, else None."""
        if self.flood_limit is None or call.chat_id is None or call.method in ("getFile",):
            return None
        rate, burst = self.flood_limit
        step = 1.0 / rate
        weight = len(json.loads(call.params["media"])) if "media" in call.params else 1
        tat = max(self._chat_budget.get(call.chat_id, 0.0), call.at)
        if tat - (burst - 1) * step > call.at + 1e-3:
            return max(1, round(tat - (burst - 1) * step - call.at + 0.5))
        self._chat_budget[call.chat_id] = tat + weight * step
        return None

    # files ------------------------------------------------------------------------------------

    def hold_file(self, file_id: str) -> Hold:
        """Hold every download of a file until `release()`: the app's handler waits there, at a
        point a test knows (to kill its process, say)."""
        hold = self.holds[file_id] = Hold()
        return hold

    def add_file(self, file_id: str, content: bytes, preview: bool = True) -> None:
        """Make a file downloadable by file id, and (an image, unless `preview` is False) its
        smallest size as Telegram makes it, under the id tests.factories.photo gives it."""
        self.files[file_id] = content
        if preview:
            try:
                with Image.open(io.BytesIO(content)) as image:
                    image.thumbnail((90, 90))
                    out = io.BytesIO()
                    image.convert("RGB").save(out, "JPEG", quality=70)
                self.files[f"{file_id}-s"] = out.getvalue()
            except (OSError, ValueError):
                pass  # not an image: no preview

    # inspection -------------------------------------------------------------------------------

    def charge(self, user_id: int, stars: int) -> str:
        """A Stars payment Telegram made for a user (its telegram_payment_charge_id), which
        refundStarPayment can then refund once."""
        charge_id = f"stxFAKE{next(self._ids)}-{user_id}"
        self.charges[charge_id] = {"user_id": user_id, "stars": stars, "refunded": False}
        return charge_id

    def calls_to(self, method: str, chat_id: int | None = None) -> list[Call]:
        """The calls of one method (to one chat), in order."""
        with self._lock:
            return [
                c
                for c in self.calls
                if c.method == method and (chat_id is None or c.chat_id == chat_id)
            ]

    def texts(self, chat_id: int) -> list[str]:
        """Every text sent or edited into a chat, in order (calls it refused are not counted)."""
        with self._lock:
            return [
                c.text
                for c in self.calls
                if c.chat_id == chat_id
                and c.method in ("sendMessage", "editMessageText")
                and c.error is None
            ]

    def wait_for(self, predicate, timeout: float = 15.0, what: str = "a call"):
        """Wait until predicate(calls) is truthy and return it; fail the test on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                snapshot = list(self.calls)
            result = predicate(snapshot)
            if result:
                return result
            time.sleep(0.02)
        raise AssertionError(
            f"timed out waiting for {what}; calls: "
            f"{[(c.method, c.text[:60]) for c in self.calls][-15:]}"
        )

    def mark(self) -> int:
        """A point in the calls so far: `wait_text(..., after=mark)` looks only past it."""
        with self._lock:
            return len(self.calls)

    def wait_text(self, chat_id: int, fragment: str, timeout: float = 15.0, after: int = 0) -> Call:
        """Wait for a message to the chat containing `fragment`, sent after the `after` mark."""

        def found(calls):
            for c in calls[after:]:
                if (
                    c.chat_id == chat_id
                    and c.method in ("sendMessage", "editMessageText")
                    and c.error is None
                    and fragment in c.text
                ):
                    return c
            return None

        return self.wait_for(found, timeout, f"a message with {fragment!r}")

    # the API ----------------------------------------------------------------------------------

    def _message(self, chat_id, **extra) -> dict:
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": int(chat_id), "type": "private"},
            "from": {"id": 1, "is_bot": True, "first_name": "Bot"},
            **extra,
        }

    def _build(self) -> Flask:
        app = Flask("fake_telegram")

        @app.route("/bot<token>/<method>", methods=["GET", "POST"])
        @app.route("/bot<token>/test/<method>", methods=["GET", "POST"], endpoint="test_env")
        def api(token: str, method: str):
            if token != self.token:
                return jsonify(ok=False, error_code=401, description="Unauthorized"), 401
            params = {**request.args.to_dict(), **request.form.to_dict()}
            if request.is_json:
                params.update(request.get_json())
            files = {k: f.read() for k, f in request.files.items()}
            call = Call(method, params, files, at=self.clock.monotonic(),
                        test_env="/test/" in request.path)  # fmt: skip
            with self._lock:
                self.calls.append(call)
                failure = next(
                    (
                        x
                        for x in self.failures
                        if x["method"] == method
                        and x["times"]
                        and x.get("chat_id") in (None, call.chat_id)
                    ),
                    None,
                )
                if failure:
                    failure["times"] -= 1
                elif (retry_after := self._flooded(call)) is not None:
                    failure = {
                        "code": 429,
                        "retry_after": retry_after,
                        "description": f"Too Many Requests: retry after {retry_after}",
                    }
                if failure and (failure["code"] != 200 or failure["body"] is not None):
                    call.error = failure["code"]  # (a 200 with a body of its own: a proxy's page)
            if failure and failure.get("hang"):
                time.sleep(failure["hang"])
            if failure and failure["code"] == 200 and failure["body"] is None:
                failure = None  # only late
            if failure and failure.get("body") is not None:
                return Response(failure["body"], failure["code"], mimetype="text/html")
            if failure:
                body = {
                    "ok": False,
                    "error_code": failure["code"],
                    "description": failure["description"] or f"Error {failure['code']}",
                }
                if failure["retry_after"]:
                    body["parameters"] = {"retry_after": failure["retry_after"]}
                return jsonify(body), failure["code"]
            return self._answer(call)

        @app.put("/_files/<file_id>")
        def put_file(file_id: str):
            """A file (and its preview) the stand-in serves from now on (tests/say.py)."""
            self.add_file(file_id, request.get_data())
            return "", 204

        @app.get("/file/bot<token>/<path:file_path>")
        def file(token: str, file_path: str):
            file_path = file_path.removeprefix("test/")  # Telegram's test environment
            file_id = file_path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            if token != self.token or file_id not in self.files:
                return Response("Not Found", 404)
            hold = self.holds.get(file_id)
            if hold is not None:
                hold.wait(int(request.environ["REMOTE_PORT"]))
            return Response(self.files[file_id], mimetype="application/octet-stream")

        return app

    def _answer(self, call: Call):
        def ok(result):
            call.result = result
            return jsonify(ok=True, result=result)

        def bad(description: str):
            call.error = 400
            return jsonify(ok=False, error_code=400, description=f"Bad Request: {description}"), 400

        p = call.params
        match call.method:
            case "getMe":
                return ok({"id": 1, "is_bot": True, "first_name": "Bot", "username": "test_bot"})
            case "sendMessage":
                return ok(self._message(p["chat_id"], text=p.get("text", "")))
            case "editMessageText":
                shown = (int(p["chat_id"]), int(p.get("message_id") or 0))
                if self.edited.get(shown) == p.get("text", ""):  # as Telegram answers it
                    return bad("message is not modified: specified new message content and "
                               "reply markup are exactly the same")  # fmt: skip
                self.edited[shown] = p.get("text", "")
                return ok(self._message(p["chat_id"], text=p.get("text", "")))
            case (
                "answerCallbackQuery"
                | "setWebhook"
                | "setMyCommands"
                | "deleteWebhook"
                | "setChatMenuButton"
                | "editMessageReplyMarkup"
            ):
                return ok(True)
            case "getFile":
                file_id = p.get("file_id")
                if file_id not in self.files:
                    return bad("invalid file_id")
                return ok(
                    {
                        "file_id": file_id,
                        "file_unique_id": f"u-{file_id}",
                        "file_size": len(self.files[file_id]),
                        "file_path": f"photos/{file_id}.jpg",
                    }
                )
            case "sendPhoto":
                return ok(self._message(p["chat_id"], photo=[]))
            case "sendMediaGroup":
                media = json.loads(p["media"])
                if self.refuse_urls and any(m["media"].startswith("http") for m in media):
                    return bad("wrong file identifier/HTTP URL specified")
                return ok([self._message(p["chat_id"], photo=[]) for _ in media])
            case "sendInvoice" | "createInvoiceLink":
                problem = _invoice_problem(p)
                if problem:
                    return bad(problem)
                amount = json.loads(p["prices"])[0]["amount"]
                if call.method == "createInvoiceLink":
                    slug = f"fake{next(self._ids)}"
                    self.invoices[slug] = {**p, "amount": amount}
                    return ok(f"https://t.me/${slug}")
                invoice = {
                    "title": p["title"],
                    "description": p["description"],
                    "start_parameter": "",
                    "currency": p["currency"],
                    "total_amount": amount,
                }
                return ok(self._message(p["chat_id"], invoice=invoice))
            case "answerPreCheckoutQuery":
                if not p.get("pre_checkout_query_id"):
                    return bad("QUERY_ID_INVALID")
                if p.get("ok") in (False, "false", "False") and not p.get("error_message"):
                    return bad("error_message is required when ok is false")
                return ok(True)
            case "refundStarPayment":
                charge = self.charges.get(p.get("telegram_payment_charge_id", ""))
                if charge is None or str(charge["user_id"]) != str(p.get("user_id")):
                    return bad("CHARGE_NOT_FOUND")
                if charge["refunded"]:
                    return bad("CHARGE_ALREADY_REFUNDED")
                charge["refunded"] = True
                return ok(True)
            case "editUserStarSubscription":
                if p.get("telegram_payment_charge_id") not in self.charges:
                    return bad("CHARGE_NOT_FOUND")
                return ok(True)
            case _:
                return bad(f"method {call.method} is not faked")


def _invoice_problem(p: dict) -> str | None:
    """What Telegram would refuse in a Stars invoice (sendInvoice, createInvoiceLink)."""
    if p.get("currency") != "XTR":
        return "CURRENCY_INVALID: digital goods are sold in Telegram Stars (XTR)"
    if p.get("provider_token"):
        return "PROVIDER_TOKEN must be empty for payments in Telegram Stars"
    if not 1 <= len((p.get("payload") or p.get("invoice_payload") or "").encode()) <= 128:
        return "INVOICE_PAYLOAD_INVALID"
    if not p.get("title") or len(p["title"]) > 32 or not p.get("description"):
        return "title (1-32) and description are required"
    prices = json.loads(p.get("prices") or "[]")
    if len(prices) != 1 or not 1 <= prices[0].get("amount", 0) <= 10_000:
        return "Stars invoices take exactly one price of 1-10000 Stars"
    period = p.get("subscription_period")
    if period not in (None, "", "2592000", 2592000):
        return "SUBSCRIPTION_PERIOD_INVALID"
    return None


def main() -> None:
    """Serve the stand-in on a fixed port and print what the bot says: `python -m
    tests.fake_telegram 8081 TOKEN` (for trying the chat by hand against `make run`)."""
    import sys

    port, token = int(sys.argv[1]), sys.argv[2]
    fake = FakeTelegram(token, port)

    @fake.app.after_request
    def show(response):
        call = fake.calls[-1] if fake.calls else None
        if call and request.path.endswith(call.method):
            buttons = [b.get("text") for b in call.buttons()]
            media = json.loads(call.params["media"]) if "media" in call.params else []
            print(
                f"[{call.method}] {call.text} {buttons or ''} "
                f"{[m['media'][:60] for m in media] or ''}",
                flush=True,
            )
        return response

    fake._thread.join()


if __name__ == "__main__":
    main()
