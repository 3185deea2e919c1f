"""Web origins and article URLs: parsing, matching and normalising."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
# Query parameters that only track the visit; they never change the article.
TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid"}
    | {"mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "ref_src", "spm"}
)
_HOST_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_ORIGIN_PATTERN = re.compile(
    rf"^(?P<scheme>https?)://(?P<wild>\*\.)?(?P<host>{_HOST_LABEL}(?:\.{_HOST_LABEL})*"
    r"|\[[0-9a-f:.]+\])(?::(?P<port>\d{1,5}))?$"
)


class InvalidOrigin(ValueError):
    pass


def parse_allowed_origin(value: str) -> str:
    """Check and canonicalise an allowed origin: ``https://host[:port]`` or ``https://*.host``."""
    text = value.strip().lower().rstrip("/")
    match = _ORIGIN_PATTERN.match(text)
    if not match:
        raise InvalidOrigin(
            f"{value!r} is not an origin like https://news.example.com or https://*.example.com"
        )
    scheme, port = match["scheme"], match["port"]
    if port and (int(port) > 65535 or int(port) == 0):
        raise InvalidOrigin(f"{value!r} has an invalid port")
    if port and int(port) == DEFAULT_PORTS[scheme]:
        port = None
    host = ("*." if match["wild"] else "") + match["host"]
    return f"{scheme}://{host}" + (f":{port}" if port else "")


def canonical_origin(origin: str) -> str | None:
    """The request's Origin header in the same form as stored origins, or None if malformed."""
    try:
        parsed = parse_allowed_origin(origin)
    except InvalidOrigin:
        return None
    return None if "*" in parsed else parsed


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """Whether a browser Origin matches one of the allowed origins (wildcards match subdomains)."""
    candidate = canonical_origin(origin)
    if candidate is None:
        return False
    scheme, _, host_port = candidate.partition("://")
    for pattern in allowed:
        if pattern == candidate:
            return True
        p_scheme, _, p_host_port = pattern.partition("://")
        if p_scheme == scheme and p_host_port.startswith("*."):
            suffix = p_host_port[1:]  # ".example.com[:port]"
            p_host, _, p_port = suffix.partition(":")
            host, _, port = host_port.partition(":")
            if host.endswith(p_host) and port == p_port and len(host) > len(p_host):
                return True
    return False


def url_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s) URL (default port left out)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        return None
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + ("" if port in (None, DEFAULT_PORTS[scheme]) else f":{port}")


def url_on_origins(url: str, allowed: list[str]) -> bool:
    """Whether a URL lies on one of the allowed origins: scheme, host and port, with the
    wildcard rule of ``origin_allowed`` (article URLs, and every URL the fetcher follows)."""
    origin = url_origin(url)
    return origin is not None and origin_allowed(origin, allowed)


def normalise_article_url(url: str) -> str:
    """Canonical article URL: lower-case scheme and host, no default port, no fragment,
    no tracking parameters (utm_* and the usual click ids), remaining parameters sorted."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError("must be an absolute http(s) URL")
    scheme = parts.scheme.lower()
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # raises ValueError on a bad port
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))
