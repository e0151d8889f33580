"""The Astria client's retry policy and request shapes, against a scripted HTTP server."""

from __future__ import annotations

import time

import pytest
from flask import Flask, jsonify, request

from tests.live import serve
from webapp.astria import (
    AstriaClient,
    AstriaOutcomeUnknown,
    AstriaRejected,
    AstriaUnavailable,
    Photo,
    parse_prompt,
    parse_tune,
)

TUNE = {
    "id": 42,
    "title": "uuid",
    "name": "man",
    "eta": "2026-11-26T10:00:00.000Z",
    "trained_at": None,
}
PROMPT = {"id": 7, "tune_id": 1504944, "text": "x", "images": []}


class Scripted:
    """Answers each request with the next scripted (status, body, delay) and records it."""

    def __init__(self) -> None:
        self.script: list[tuple[int, dict, float, dict]] = []
        self.requests: list[dict] = []
        app = Flask("scripted")

        @app.route("/<path:path>", methods=["GET", "POST", "DELETE"])
        def answer(path):
            self.requests.append(
                {
                    "method": request.method,
                    "path": "/" + path,
                    "auth": request.headers.get("Authorization"),
                    "form": request.form.to_dict(flat=False),
                    "files": {
                        k: [f.read() for f in request.files.getlist(k)] for k in request.files
                    },
                }
            )
            status, body, delay, headers = self.script.pop(0)
            time.sleep(delay)
            return jsonify(body), status, headers

        self.server, self.url = serve(app)

    def then(self, status: int, body: dict | None = None, delay: float = 0.0, **headers):
        self.script.append((status, body or {"error": "scripted"}, delay, headers))
        return self


@pytest.fixture
def astria():
    server = Scripted()
    sleeps: list[float] = []
    client = AstriaClient(
        server.url, "sd_testkey", timeout=0.5, retries=3, backoff=0.01, sleep=sleeps.append
    )
    client.sleeps = sleeps
    yield server, client
    server.server.shutdown()


def new_tune(client):
    return client.create_tune(
        title="uuid",
        class_name="man",
        photos=[Photo(f"{n}.jpg", b"jpeg-%d" % n) for n in range(4)],
        callback="https://app/cb?token=x",
        base_tune_id=1504944,
        model_type="lora",
        token="ohwx",
        branch="fast",
    )


def test_a_tune_is_sent_as_multipart_with_four_files(astria):
    server, client = astria
    server.then(201, TUNE)
    tune = new_tune(client)
    assert tune.id == 42 and tune.trained_at is None and tune.eta.year == 2026
    (sent,) = server.requests
    assert sent["path"] == "/tunes" and sent["auth"] == "Bearer sd_testkey"
    assert sent["form"] == {
        "tune[title]": ["uuid"],
        "tune[name]": ["man"],
        "tune[token]": ["ohwx"],
        "tune[callback]": ["https://app/cb?token=x"],
        "tune[base_tune_id]": ["1504944"],
        "tune[model_type]": ["lora"],
        "tune[branch]": ["fast"],
    }
    assert sent["files"] == {"tune[images][]": [b"jpeg-0", b"jpeg-1", b"jpeg-2", b"jpeg-3"]}


def test_422_is_never_retried(astria):
    server, client = astria
    server.then(422, {"error": "title is missing"})
    with pytest.raises(AstriaRejected) as caught:
        new_tune(client)
    assert caught.value.status == 422 and "title is missing" in caught.value.message
    assert len(server.requests) == 1


def test_5xx_is_retried_with_backoff_then_succeeds(astria):
    server, client = astria
    server.then(500).then(502).then(201, TUNE)
    assert new_tune(client).id == 42
    assert len(server.requests) == 3
    assert client.sleeps == [0.01, 0.02]


def test_429_honours_retry_after_and_gives_up_after_the_retries(astria):
    server, client = astria
    server.then(429, **{"Retry-After": "3"}).then(503).then(503).then(503)
    with pytest.raises(AstriaUnavailable):
        client.get_tune(42)
    assert len(server.requests) == 4
    assert client.sleeps[0] == 3.0


def test_504_on_a_prompt_is_not_repeated_blindly(astria):
    server, client = astria
    server.then(504)
    with pytest.raises(AstriaOutcomeUnknown):
        client.create_prompt(tune_id=1504944, text="x", num_images=4, callback="https://cb")
    assert len(server.requests) == 1


def test_a_read_timeout_on_a_prompt_is_not_repeated(astria):
    server, client = astria
    server.then(201, PROMPT, delay=1.0)
    with pytest.raises(AstriaOutcomeUnknown):
        client.create_prompt(tune_id=1504944, text="x", num_images=4, callback="https://cb")
    assert len(server.requests) == 1


def test_504_on_a_tune_is_retried_with_the_same_title(astria):
    server, client = astria
    server.then(504).then(201, TUNE)
    assert new_tune(client).id == 42
    titles = [r["form"]["tune[title]"] for r in server.requests]
    assert titles == [["uuid"], ["uuid"]]


def test_a_prompt_is_multipart_with_text_count_and_callback(astria):
    server, client = astria
    server.then(201, PROMPT)
    prompt = client.create_prompt(
        tune_id=1504944, text="<lora:42:1> ohwx man, x", num_images=4, callback="https://cb"
    )
    assert prompt.id == 7 and not prompt.done
    assert server.requests[0]["path"] == "/tunes/1504944/prompts"
    assert server.requests[0]["form"] == {
        "prompt[text]": ["<lora:42:1> ohwx man, x"],
        "prompt[num_images]": ["4"],
        "prompt[callback]": ["https://cb"],
    }


def test_unreachable_astria_is_unavailable():
    client = AstriaClient("http://127.0.0.1:9", None, retries=1, backoff=0, sleep=lambda s: None)
    with pytest.raises(AstriaUnavailable):
        client.get_tune(1)


def test_parsing_real_callback_bodies():
    # the shape of a real Flux prompt callback body, as Astria sends it
    prompt = parse_prompt(
        {
            "id": 18609859,
            "text": "<lora:1661944:1.0>ohwx man in the style",
            "steps": None,
            "images": ["https://s3/a", "https://s3/b"],
            "tune_id": 1504944,
            "trained_at": "2024-09-29T16:16:06.539Z",
        }
    )
    assert prompt.done and prompt.images == ("https://s3/a", "https://s3/b")
    assert prompt.tune_id == 1504944 and not prompt.failed
    tune = parse_tune({"id": 1350102, "title": "Face Gen", "trained_at": None, "eta": "bogus"})
    assert tune.trained_at is None and tune.eta is None and not tune.failed
    with pytest.raises(ValueError):
        parse_tune({"id": "1"})


def test_characteristics_and_an_inspection_are_sent_as_astria_documents(astria):
    server, client = astria
    server.then(201, TUNE).then(200, {"name": "man", "blurry": False})
    client.create_tune(
        title="uuid",
        class_name="man",
        photos=[Photo("0.jpg", b"jpeg")],
        callback="https://app/cb",
        base_tune_id=None,
        model_type="faceid",
        token="ohwx",
        characteristics={"age": "30 yo", "hair_color": "black hair"},
    )
    assert server.requests[0]["form"]["tune[characteristics][age]"] == ["30 yo"]
    assert server.requests[0]["form"]["tune[characteristics][hair_color]"] == ["black hair"]
    assert client.inspect_image("man", Photo("p.jpg", b"jpeg"), timeout=2) == {
        "name": "man",
        "blurry": False,
    }
    sent = server.requests[1]
    assert sent["path"] == "/images/inspect" and sent["form"] == {"name": ["man"]}
    assert sent["files"] == {"file": [b"jpeg"]}
    server.then(500).then(200, {})
    with pytest.raises(AstriaUnavailable):  # one try: a check must not keep the user waiting
        client.inspect_image("man", Photo("p.jpg", b"jpeg"), timeout=2)


def test_an_answer_that_cannot_be_decoded_is_an_astria_error_not_a_crash(astria):
    server, client = astria
    # a body that says it is gzip and is not: requests raises ContentDecodingError on reading
    for _ in range(4):
        server.then(200, {"id": 1}, **{"Content-Encoding": "gzip"})
    with pytest.raises(AstriaUnavailable):  # a read is retried, then given up
        client.get_tune(1)
    assert len(server.requests) == 4
    server.then(201, PROMPT, **{"Content-Encoding": "gzip"})
    with pytest.raises(AstriaOutcomeUnknown):  # a paid prompt may have been made: not repeated
        client.create_prompt(tune_id=1504944, text="x", num_images=4, callback="https://cb")
    assert len(server.requests) == 5
