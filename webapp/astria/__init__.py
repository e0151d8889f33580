"""The Astria client: tunes (models), prompts (generations) and packs (photoshoots) over
Astria's REST API.

Astria's JSON is parsed in webapp.astria.answers and packs.py, and nowhere else. Retries follow
Astria's own advice: never retry a 422 (validation), back off on 429 and 5xx, and never blindly
repeat a request whose outcome is unknown (504 or a read timeout) unless it is idempotent (a
tune carries a unique title).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

import requests

from webapp.astria.answers import (
    AstriaError,
    AstriaOutcomeUnknown,
    AstriaRejected,
    AstriaUnavailable,
    Photo,
    Prompt,
    Tune,
    astria_id,
    parse_prompt,
    parse_tune,
)
from webapp.astria.packs import Pack, PackListing, parse_listings, parse_pack, parse_run

__all__ = [
    "AstriaClient",
    "AstriaError",
    "AstriaOutcomeUnknown",
    "AstriaRejected",
    "AstriaUnavailable",
    "Pack",
    "PackListing",
    "Photo",
    "Prompt",
    "Tune",
    "parse_prompt",
    "parse_tune",
]

log = logging.getLogger("astria")

RETRYABLE = {429, 500, 502, 503}


def _error_message(response: requests.Response) -> str:
    """Astria's `error` field when there is one, else a short piece of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict):
        error = body.get("error") or body.get("errors") or body
        return str(error)[:300]
    return str(body)[:300]


class AstriaClient:
    """One client per app, holding one HTTP session (connections are reused)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 35.0,
        retries: int = 3,
        backoff: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"
        self.session.headers["Accept"] = "application/json"

    def _request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        retries: int | None = None,
        timeout: float | None = None,
        empty: bool = False,
        **kwargs,
    ) -> dict:
        """Send with the retry policy above (`retries` and `timeout` may be tighter for one
        call); return the JSON body (None for an empty one, when `empty` allows it)."""
        retries = self.retries if retries is None else retries
        for attempt in range(retries + 1):
            last = attempt == retries
            started = time.perf_counter()
            try:
                response = self.session.request(
                    method,
                    self.base_url + path,
                    timeout=(5, timeout or self.timeout),
                    **kwargs,
                )
            except requests.ConnectTimeout as exc:
                self._log(method, path, "connect-timeout", started)
                if last:
                    raise AstriaUnavailable("Astria could not be reached") from exc
            except requests.ReadTimeout as exc:
                self._log(method, path, "read-timeout", started)
                if last or not idempotent:
                    raise AstriaOutcomeUnknown("Astria did not answer in time") from exc
            except requests.ConnectionError as exc:
                self._log(method, path, "connection-error", started)
                if last:
                    raise AstriaUnavailable("Astria could not be reached") from exc
            except requests.RequestException as exc:  # a broken body or encoding, after sending
                self._log(method, path, type(exc).__name__, started)
                if not idempotent:
                    raise AstriaOutcomeUnknown("Astria's answer could not be read") from exc
                if last:
                    raise AstriaUnavailable("Astria's answer could not be read") from exc
            else:
                self._log(method, path, response.status_code, started)
                status = response.status_code
                if 200 <= status < 300:
                    if empty and not response.content.strip():
                        return None
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise AstriaUnavailable("Astria answered with no JSON", status) from exc
                if status == 504:
                    if last or not idempotent:
                        raise AstriaOutcomeUnknown("Astria timed out (504)", status)
                elif status in RETRYABLE:
                    if last:
                        raise AstriaUnavailable(_error_message(response), status)
                    retry_after = response.headers.get("Retry-After", "")
                    if status in (429, 503) and retry_after.isdigit():  # only they carry it
                        self.sleep(min(float(retry_after), 60.0))
                        continue
                else:
                    raise AstriaRejected(_error_message(response), status)
            self.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _log(method: str, path: str, status, started: float) -> None:
        ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %s %.0fms", method, path, status, ms)

    # tunes ------------------------------------------------------------------------------------

    def create_tune(
        self,
        *,
        title: str,
        class_name: str,
        photos: Sequence[Photo],
        callback: str,
        base_tune_id: int | None,
        model_type: str,
        token: str,
        branch: str | None = None,
        characteristics: Mapping[str, str] | None = None,
    ) -> Tune:
        """POST /tunes as multipart with the photos as `tune[images][]` files.

        `title` is a fresh UUID per model: Astria's idempotency key, which makes a retry of an
        unanswered request safe."""
        fields = [
            ("tune[title]", title),
            ("tune[name]", class_name),
            ("tune[token]", token),
            ("tune[callback]", callback),
        ]
        if base_tune_id:
            fields.append(("tune[base_tune_id]", str(base_tune_id)))
        if model_type != "checkpoint":
            fields.append(("tune[model_type]", model_type))
        if branch:
            fields.append(("tune[branch]", branch))
        for key, value in (characteristics or {}).items():  # what /images/inspect saw most
            fields.append((f"tune[characteristics][{key}]", value))
        files = [(k, (None, v)) for k, v in fields] + [
            ("tune[images][]", (p.filename, p.content, p.mime_type)) for p in photos
        ]
        return parse_tune(self._request("POST", "/tunes", idempotent=True, files=files))

    def inspect_image(self, class_name: str, photo: Photo, timeout: float) -> dict:
        """POST /images/inspect: what Astria sees in a training photo (blurry, several people,
        sunglasses, a hat, the class it recognises, age, hair…). One try, a short timeout: a
        check before paying must not keep the user waiting."""
        files = [
            ("name", (None, class_name)),
            ("file", (photo.filename, photo.content, photo.mime_type)),
        ]
        body = self._request(
            "POST", "/images/inspect", idempotent=True, retries=0, timeout=timeout, files=files
        )
        if not isinstance(body, dict):
            raise AstriaUnavailable("Astria's inspection is not an object")
        return body

    def get_tune(self, tune_id: int) -> Tune:
        """GET /tunes/:id."""
        return parse_tune(self._request("GET", f"/tunes/{tune_id}", idempotent=True))

    def delete_tune(self, tune_id: int) -> None:
        """DELETE /tunes/:id."""
        self._request("DELETE", f"/tunes/{tune_id}", idempotent=True)

    # prompts ----------------------------------------------------------------------------------

    def create_prompt(
        self,
        *,
        tune_id: int,
        text: str,
        num_images: int,
        callback: str,
        options: Mapping[str, str | int | bool] | None = None,
    ) -> Prompt:
        """POST /tunes/:id/prompts as multipart; never repeated blindly (no idempotency key).
        `options` are more prompt fields (aspect_ratio, super_resolution, …)."""
        fields = [
            ("prompt[text]", text),
            ("prompt[num_images]", str(num_images)),
            ("prompt[callback]", callback),
        ]
        for key, value in (options or {}).items():
            value = str(value).lower() if isinstance(value, bool) else str(value)
            fields.append((f"prompt[{key}]", value))
        files = [(k, (None, v)) for k, v in fields]
        body = self._request("POST", f"/tunes/{tune_id}/prompts", idempotent=False, files=files)
        return parse_prompt(body)

    def get_prompt(self, tune_id: int, prompt_id: int) -> Prompt:
        """GET /tunes/:tune_id/prompts/:id."""
        body = self._request("GET", f"/tunes/{tune_id}/prompts/{prompt_id}", idempotent=True)
        return parse_prompt(body)

    def prompt(self, prompt_id: int) -> Prompt:
        """GET /prompts/:id: a prompt whatever tune it ran on (a pack's, on Flux, runs on the
        pack's base tune)."""
        return parse_prompt(self._request("GET", f"/prompts/{prompt_id}", idempotent=True))

    def tune_prompts(self, tune_id: int) -> list[int]:
        """GET /tunes/:id/prompts: the ids of the tune's newest prompts (up to 120)."""
        body = self._request("GET", f"/tunes/{tune_id}/prompts", idempotent=True,
                             params={"limit": 120})  # fmt: skip
        if not isinstance(body, list):
            raise AstriaUnavailable("Astria's list of prompts is not a list")
        return [i for i in (astria_id(p.get("id")) for p in body if isinstance(p, dict)) if i]

    def like_prompt(self, prompt_id: int) -> None:
        """POST /prompts/:id/likes (201, no body): Astria learns what works (a like of a pack's
        prompt also counts for the pack's template). A second like of the same prompt is
        harmless, so the request may be retried."""
        self._request("POST", f"/prompts/{prompt_id}/likes", idempotent=True, empty=True,
                      retries=1)  # fmt: skip

    def delete_prompt(self, tune_id: int, prompt_id: int) -> None:
        """DELETE /tunes/:tune_id/prompts/:id (a generation's images go with it)."""
        self._request("DELETE", f"/tunes/{tune_id}/prompts/{prompt_id}", idempotent=True)

    # packs (photoshoots) ------------------------------------------------------------------------

    def gallery_packs(self) -> list[PackListing]:
        """GET /gallery/packs: Astria's public packs (a malformed one is skipped)."""
        return self._listings("/gallery/packs")

    def own_packs(self) -> list[PackListing]:
        """GET /packs: the packs of this Astria account."""
        return self._listings("/packs")

    def get_pack(self, pack_id: int) -> Pack:
        """GET /p/:id: a pack's cover and, per class it supports, its images, cost and samples;
        AstriaUnavailable when its answer cannot be read."""
        try:
            return parse_pack(self._request("GET", f"/p/{pack_id}", idempotent=True))
        except ValueError as exc:
            raise AstriaUnavailable(f"Astria's pack {pack_id} cannot be read: {exc}") from None

    def run_pack(
        self,
        pack_id: int,
        *,
        title: str,
        tune_ids: Sequence[int],
        callback: str,
        prompt_ids: Sequence[int] = (),
    ) -> tuple[int, ...]:
        """POST /p/:id/tunes on existing tunes (no training): the pack's prompts (or only
        `prompt_ids`), each calling back `callback` once done; the new prompts' ids, or () when
        Astria did not list them (then list the tune's prompts). `title` is Astria's
        idempotency key: a retried request with it makes no second run."""
        tune = {
            "title": title,
            "tune_ids": list(tune_ids),
            "prompt_attributes": {"callback": callback},
            **({"prompt_ids": list(prompt_ids)} if prompt_ids else {}),
        }
        body = self._request("POST", f"/p/{pack_id}/tunes", idempotent=True, json={"tune": tune})
        try:
            return parse_run(body)
        except ValueError as exc:
            raise AstriaOutcomeUnknown(f"Astria's answer to the pack run: {exc}") from None

    def _listings(self, path: str) -> list[PackListing]:
        try:
            return parse_listings(self._request("GET", path, idempotent=True))
        except ValueError as exc:
            raise AstriaUnavailable(f"Astria's {path} cannot be read: {exc}") from None
