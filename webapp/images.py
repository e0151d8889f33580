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
redirects, caps the size, and gives the whole download FETCH_SECONDS: a server that answers a
byte at a time, each within the read timeout, is cut off then (the connection is shut from a
timer), so it cannot hold a worker.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from urllib3.connection import HTTPConnection

from webapp.settings import SANDBOX_PREFIX, Settings

log = logging.getLogger("images")

CONNECT_SECONDS, READ_SECONDS = 5.0, 10.0  # the connection; each read
FETCH_SECONDS = 30.0  # the whole download once connected: TLS, headers and body
TLS = ssl.create_default_context()  # the system's CAs; the host name is checked


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
        try:
            sock = socket.create_connection((address, origin.port), timeout=CONNECT_SECONDS)
        except OSError as exc:
            raise ImageRefused(f"image download failed: {type(exc).__name__}") from None
        deadline = _Deadline(sock)
        try:
            sock.settimeout(READ_SECONDS)
            if origin.scheme == "https":
                sock = TLS.wrap_socket(sock, server_hostname=origin.host)
            conn = HTTPConnection(address, origin.port)
            conn.sock = sock
            conn.request("GET", path, headers={"Host": host_header}, preload_content=False)
            response = conn.getresponse()
            if response.status != 200:
                raise ImageRefused(f"image download answered HTTP {response.status}")
            content = read_at_most(iter(lambda: response.read1(64 * 1024), b""), limit, "image")
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError) as exc:
            if not deadline.expired:
                if isinstance(exc, ImageRefused):
                    raise
                raise ImageRefused(f"image download failed: {type(exc).__name__}") from None
        finally:
            deadline.close()
            sock.close()
        if deadline.expired:  # whatever was read by then is not the whole image
            raise ImageRefused(f"image download took over {FETCH_SECONDS:g} s")
        return content


class _Deadline:
    """FETCH_SECONDS for one download; then its connection is shut, which ends whatever read
    waits on it, TLS handshake included (a server sending a byte at a time never lets a read
    time out)."""

    def __init__(self, sock: socket.socket) -> None:
        self.expired = False
        self._sock = sock.dup()  # shutting a duplicate shuts the connection, TLS or not
        self._timer = threading.Timer(FETCH_SECONDS, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        self.expired = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        """The download is over."""
        self._timer.cancel()
        self._sock.close()


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
