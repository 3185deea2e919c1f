"""Getting one page of a site over HTTP without letting anyone steer the request.

The URL comes, in the end, from readers, so every hop is checked: it must lie on the
site's allowed origins (redirects too, at most MAX_REDIRECTS of them), and the address
the connection is actually made to must be a public one. The name is resolved once, each
address it gives is checked, and the socket connects to that checked address while the
request keeps the original host name (Host header, TLS SNI and certificate check), so a
name that answers differently the second time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import codecs
import enum
import ipaddress
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from feedback.origins import DEFAULT_PORTS, url_on_origins

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_CHUNK = 64 * 1024
# The encoding a page declares in its first bytes, as browsers pre-scan for it.
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)

Resolver = Callable[[str, int], list[tuple]]


class FetchProblem(enum.StrEnum):
    """Why a page could not be had."""

    OFF_ORIGIN = "off_origin"  # the URL, or a redirect, leaves the site's allowed origins
    PRIVATE_ADDRESS = "private_address"  # the name resolves to a private or local address
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NOT_HTML = "not_html"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"  # 404 or 410
    HTTP_STATUS = "http_status"  # any other answer than 200
    NETWORK = "network"  # no such name, refused, reset, TLS failure


class FetchError(Exception):
    """A page was not fetched; ``problem`` says why, the message in one line."""

    def __init__(self, problem: FetchProblem, message: str):
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class FetchLimits:
    """How a fetch may behave; from the FETCH_* settings."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_seconds: float = 30.0
    max_bytes: int = 4 * 1024 * 1024
    user_agent: str = "reader-feedback"
    allow_private_addresses: bool = False
    # A file of CA certificates to trust instead of the system's (an internal CA).
    ca_certs: str | None = None


@dataclass(frozen=True)
class Page:
    """A fetched HTML page: where it ended up and its text."""

    url: str
    html: str
    redirects: int


def system_resolver(host: str, port: int) -> list[tuple]:
    """Every address ``host`` resolves to, as socket.getaddrinfo gives them."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def is_public_address(address: str) -> bool:
    """Whether an IP address is one on the public internet (not private, loopback,
    link-local, shared, reserved or multicast)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _AddressGuard:
    """Resolves a name and connects only to addresses it may connect to."""

    def __init__(self, resolver: Resolver, allow_private: bool):
        self.resolver = resolver
        self.allow_private = allow_private

    def connect(self, host: str, port: int, timeout, socket_options) -> socket.socket:
        try:
            addresses = self.resolver(host, port)
        except OSError as error:
            raise FetchError(FetchProblem.NETWORK, f"{host} does not resolve: {error}") from error
        refused: list[str] = []
        last_error: OSError | None = None
        for family, kind, proto, _name, address in addresses:
            if not self.allow_private and not is_public_address(address[0]):
                refused.append(address[0])
                continue
            sock = socket.socket(family, kind, proto)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.settimeout(timeout)
                sock.connect(address)
            except OSError as error:
                sock.close()
                last_error = error
                continue
            return sock
        if refused and last_error is None:
            raise FetchError(
                FetchProblem.PRIVATE_ADDRESS,
                f"{host} resolves to {', '.join(sorted(set(refused)))}, not a public address",
            )
        if isinstance(last_error, TimeoutError):
            raise FetchError(FetchProblem.TIMEOUT, f"connecting to {host} timed out")
        raise FetchError(FetchProblem.NETWORK, f"could not connect to {host}: {last_error}")


class _GuardedConnect:
    """Connection mixin: the socket comes from the address guard."""

    def __init__(self, *args, guard: _AddressGuard, **kwargs):
        super().__init__(*args, **kwargs)
        self._guard = guard

    def _new_conn(self) -> socket.socket:
        return self._guard.connect(self._dns_host, self.port, self.timeout, self.socket_options)


class _GuardedHTTPConnection(_GuardedConnect, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnect, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


def _check_on_origins(url: str, allowed_origins: list[str]) -> None:
    if not url_on_origins(url, allowed_origins):
        raise FetchError(FetchProblem.OFF_ORIGIN, f"{url} is not on the site's allowed origins")


def _charset(content_type: str, head: bytes) -> str:
    """The page's encoding: a byte order mark, the header, a <meta> in the first bytes,
    else UTF-8."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    declared = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", content_type, re.I)
    candidates = [declared.group(1) if declared else None]
    found = _META_CHARSET.search(head[:1024])
    candidates.append(found.group(1).decode("ascii", "replace") if found else None)
    for name in candidates:
        if not name:
            continue
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return "utf-8"


def _get_once(url: str, limits: FetchLimits, guard: _AddressGuard, deadline: float):
    """One request, no redirects followed; the response, its body not read yet."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or DEFAULT_PORTS[scheme]
    options = {"guard": guard}
    if scheme == "https":
        pool_class = _GuardedHTTPSPool
        options["ca_certs"] = limits.ca_certs
    else:
        pool_class = _GuardedHTTPPool
    pool = pool_class(
        parts.hostname,
        port,
        timeout=urllib3.Timeout(connect=limits.connect_timeout, read=limits.read_timeout),
        maxsize=1,
        retries=False,
        **options,
    )
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {
        "User-Agent": limits.user_agent,
        "Accept": "text/html,application/xhtml+xml;q=0.9",
        "Accept-Encoding": "gzip, deflate",
    }
    if time.monotonic() > deadline:
        raise FetchError(FetchProblem.TIMEOUT, f"fetching {url} took too long")
    try:
        response = pool.urlopen(
            "GET",
            target,
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
    except urllib3.exceptions.TimeoutError as error:
        pool.close()
        raise FetchError(FetchProblem.TIMEOUT, f"{url} did not answer in time") from error
    except urllib3.exceptions.HTTPError as error:
        pool.close()
        raise FetchError(FetchProblem.NETWORK, f"fetching {url} failed: {error}") from error
    except BaseException:
        pool.close()
        raise
    return pool, response


def _read_body(url: str, response, limits: FetchLimits, deadline: float) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > limits.max_bytes:
        raise FetchError(FetchProblem.TOO_LARGE, f"{url} is {length} bytes, over the limit")
    body = bytearray()
    try:
        # Counted after decompression: a small gzip body must not unpack into gigabytes.
        # One socket read at a time, so the deadline is checked as the bytes come.
        while chunk := response.read1(_CHUNK, decode_content=True):
            body.extend(chunk)
            if len(body) > limits.max_bytes:
                raise FetchError(FetchProblem.TOO_LARGE, f"{url} is over {limits.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise FetchError(FetchProblem.TIMEOUT, f"reading {url} took too long")
    except urllib3.exceptions.TimeoutError as error:
        raise FetchError(FetchProblem.TIMEOUT, f"{url} stopped sending") from error
    except urllib3.exceptions.HTTPError as error:
        raise FetchError(FetchProblem.NETWORK, f"reading {url} failed: {error}") from error
    return bytes(body)


def get_page(
    url: str,
    allowed_origins: list[str],
    limits: FetchLimits,
    resolver: Resolver = system_resolver,
) -> Page:
    """GET an HTML page on the site's allowed origins, following at most MAX_REDIRECTS
    redirects that stay on them; raises FetchError."""
    guard = _AddressGuard(resolver, limits.allow_private_addresses)
    deadline = time.monotonic() + limits.total_seconds
    for redirects in range(MAX_REDIRECTS + 1):
        _check_on_origins(url, allowed_origins)
        pool, response = _get_once(url, limits, guard, deadline)
        try:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise FetchError(FetchProblem.HTTP_STATUS, f"{url} redirects nowhere")
                url = urljoin(url, location.strip())
                continue
            if response.status in (404, 410):
                raise FetchError(FetchProblem.NOT_FOUND, f"{url} answers {response.status}")
            if response.status != 200:
                raise FetchError(FetchProblem.HTTP_STATUS, f"{url} answers {response.status}")
            content_type = response.headers.get("Content-Type", "")
            media_type = content_type.split(";", 1)[0].strip().lower()
            if media_type not in HTML_TYPES:
                raise FetchError(
                    FetchProblem.NOT_HTML, f"{url} is {media_type or 'of no type'}, not HTML"
                )
            body = _read_body(url, response, limits, deadline)
            html = body.decode(_charset(content_type, body[:1024]), errors="replace")
            return Page(url=url, html=html, redirects=redirects)
        finally:
            response.release_conn()
            response.close()
            pool.close()
    raise FetchError(
        FetchProblem.TOO_MANY_REDIRECTS, f"more than {MAX_REDIRECTS} redirects from the article"
    )
