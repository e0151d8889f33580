"""Image URLs from Astria: which ones the app accepts, and fetching one without being turned
into a proxy into the operator's network.

A callback's image URLs are accepted only on ASTRIA_IMAGE_HOSTS: a bare host means https on
port 443; an entry with a scheme and port (`http://127.0.0.1:9000`) is an origin an operator
pinned on purpose. The built-in sandbox's own origin is accepted automatically. A URL must
start with its origin written exactly so (`https://host/`, `scheme://host:port/`), in printable
ASCII with no space or backslash: no userinfo (`user@host`), no default port, nothing a browser
or Telegram could read as another host than our parser does (`https://evil\\@host/`).

When the app must download an image itself (Telegram refused to fetch a URL), it resolves the
host once, refuses private, loopback, link-local and other non-public addresses (pinned origins
excepted), connects to the address it checked (no second lookup for DNS rebinding), follows no
redirects, caps the size and times out.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3

from webapp.settings import SANDBOX_PREFIX, Settings

log = logging.getLogger("images")

TIMEOUT = urllib3.Timeout(connect=5, read=30)


class ImageRefused(OSError):
    """An image URL the app will not fetch, or a fetch that went wrong; the message says why."""


@dataclass(frozen=True)
class Origin:
    """scheme://host:port; `pinned` origins were configured with a scheme (or are the sandbox).
    `prefix` is how every URL on it starts: `https://host/`, or a pinned origin as configured."""

    scheme: str
    host: str
    port: int
    pinned: bool
    prefix: str


def _origin(url: str, pinned: bool = False) -> Origin | None:
    if not _plain(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    prefix = f"{parts.scheme}://{parts.netloc.lower()}/"
    return Origin(parts.scheme, parts.hostname.lower(), port, pinned, prefix)


def _plain(url: str) -> bool:
    """Printable ASCII without spaces or backslashes (which parsers read differently)."""
    return url.isascii() and url.isprintable() and " " not in url and "\\" not in url


class ImagePolicy:
    """Which image URLs are Astria's, and how to fetch one."""

    def __init__(self, settings: Settings) -> None:
        origins = []
        for entry in settings.astria_image_hosts:
            if "://" in entry:
                origin = _origin(entry, pinned=True)
            else:
                origin = _origin(f"https://{entry}")
            if origin is not None:
                origins.append(origin)
        if settings.sandbox:  # the built-in sandbox serves its images from this app
            origins.append(_origin(settings.public_url + SANDBOX_PREFIX, pinned=True))
        self.origins = {(o.scheme, o.host, o.port): o for o in origins}
        self.max_images = settings.images_per_prompt * 2
        self.pool = urllib3.PoolManager(retries=False, timeout=TIMEOUT)

    def origin_of(self, url) -> Origin | None:
        """The allowed origin `url` is on, or None: it must start with that origin's prefix
        exactly (see the module's docstring) and parse to the same origin."""
        if not isinstance(url, str) or len(url) > 2048:
            return None
        origin = _origin(url)
        allowed = origin and self.origins.get((origin.scheme, origin.host, origin.port))
        return allowed if allowed and url.startswith(allowed.prefix) else None

    def accept(self, urls: Sequence[str], what: str) -> tuple[str, ...]:
        """The URLs that are Astria's images, at most IMAGES_PER_PROMPT × 2; others are logged
        (by host only) and dropped."""
        kept = [u for u in urls if self.origin_of(u)]
        refused = [u for u in urls if not self.origin_of(u)]
        if refused:
            log.warning("%s: refused %s image URL(s) on %s", what, len(refused), _hosts(refused))
        if len(kept) > self.max_images:
            log.warning("%s: %s images, only %s kept", what, len(kept), self.max_images)
        return tuple(kept[: self.max_images])

    def fetch(self, url: str, limit: int) -> bytes:
        """The image's bytes, fetched under the rules above; ImageRefused otherwise."""
        origin = self.origin_of(url)
        if origin is None:
            raise ImageRefused("not an Astria image URL")
        address = _public_address(origin)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        host_header = origin.host if origin.port in (80, 443) else f"{origin.host}:{origin.port}"
        if origin.scheme == "https":
            pool = self.pool.connection_from_host(
                address, origin.port, "https",
                pool_kwargs={"server_hostname": origin.host, "assert_hostname": origin.host},
            )  # fmt: skip
        else:
            pool = self.pool.connection_from_host(address, origin.port, "http")
        try:
            response = pool.urlopen(
                "GET", path, headers={"Host": host_header}, redirect=False,
                preload_content=False, retries=False,
            )  # fmt: skip
        except urllib3.exceptions.HTTPError as exc:
            raise ImageRefused(f"image download failed: {type(exc).__name__}") from None
        try:
            if response.status != 200:
                raise ImageRefused(f"image download answered HTTP {response.status}")
            return read_at_most(response.stream(64 * 1024), limit, "image")
        except urllib3.exceptions.HTTPError as exc:
            raise ImageRefused(f"image download failed: {type(exc).__name__}") from None
        finally:
            response.release_conn()


def read_at_most(chunks: Iterable[bytes], limit: int, what: str) -> bytes:
    """A download's bytes, refused (ImageRefused, an OSError) as soon as it passes `limit`."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ImageRefused(f"{what} is larger than {limit} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _public_address(origin: Origin) -> str:
    """The address to connect to: the host's first address, which must be public unless the
    origin was pinned by the operator."""
    try:
        infos = socket.getaddrinfo(origin.host, origin.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise ImageRefused("image host does not resolve") from None
    addresses = [info[4][0] for info in infos]
    if not origin.pinned:
        for address in addresses:
            if not _is_public(address):
                raise ImageRefused(f"image host resolves to a non-public address ({address})")
    return addresses[0]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _hosts(urls: Iterable) -> list[str]:
    """The hosts of some URLs, for a log line (never the whole URL: it may hold a token)."""
    found = set()
    for url in urls:
        try:
            found.add(urlsplit(url).hostname or "?")
        except (TypeError, ValueError, AttributeError):
            found.add("?")
    return sorted(found)
