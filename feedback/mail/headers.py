"""What goes into a mail's headers: safe addresses and subjects, Message-IDs, and the
signed unsubscribe links."""

from __future__ import annotations

import hashlib
import re
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from feedback.links import absolute_url, link_for
from feedback.models import Membership

UNSUBSCRIBE_SALT = "feedback.unsubscribe"
LINE_BREAKS = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class UnsafeHeader(ValueError):
    """A value meant for a mail header could smuggle in another header."""


def single_line(value: str, limit: int = 200) -> str:
    """Reader text fit for a header: line breaks become spaces, other controls go."""
    flat = _CONTROL.sub("", LINE_BREAKS.sub(" ", value or ""))
    flat = " ".join(flat.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def checked_address(address: str, name: str = "") -> str:
    """``"Name" <address>`` for a To or From header, the name quoted as the standard
    says (any text can be a name); refuses an address that could inject headers."""
    if not address or _CONTROL.search(address) or LINE_BREAKS.search(address):
        raise UnsafeHeader("line break or control character in a mail address")
    parsed_name, parsed = parseaddr(address)
    if parsed != address.strip() or parsed.count("@") != 1 or " " in parsed or parsed_name:
        raise UnsafeHeader(f"not a single plain mail address: {address!r}")
    try:
        return str(Address(display_name=single_line(name, 100), addr_spec=parsed))
    except (HeaderParseError, ValueError, IndexError) as error:
        raise UnsafeHeader(f"not a single plain mail address: {address!r}") from error


def envelope_sender() -> str:
    """The bare address mail is sent from (MAIL_DEFAULT_SENDER's)."""
    return parseaddr(current_app.config["MAIL_DEFAULT_SENDER"] or "")[1]


def site_sender(site_name: str) -> str:
    """A From header that names the site, at the service's own sending address: readers
    hear from the paper they wrote to."""
    return checked_address(envelope_sender(), site_name)


def mailable(member: Membership) -> bool:
    """Whether the member's address is safe to put in a To header; a bad one is logged
    and skipped, so it cannot fail the report (or the digest run) that would mail it."""
    try:
        checked_address(member.user.email, member.user.name)
    except UnsafeHeader:
        current_app.logger.warning("address of user %s refused for mail", member.user_id)
        return False
    return True


# --- links, ids, tokens ---------------------------------------------------------------


def message_id_for(key: str) -> str:
    """A Message-ID that depends only on the notice, so a resend is recognisably the same."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    sender = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"] or "")[1]
    domain = sender.rpartition("@")[2] or urlsplit(absolute_url("/")).hostname or "localhost"
    return f"<{digest}@{single_line(domain, 100)}>"


class _UnsubscribeSigner(TimestampSigner):
    """A timestamp signer whose issue time can be set, so tests can make an old token."""

    def __init__(self, *args, issued_at: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return self.issued_at if self.issued_at is not None else super().get_timestamp()


def _unsubscribe_serializer(issued_at: int | None = None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"],
        salt=UNSUBSCRIBE_SALT,
        signer=_UnsubscribeSigner,
        signer_kwargs={"issued_at": issued_at},
    )


def unsubscribe_token(user_id: int, site_id: int, issued_at: int | None = None) -> str:
    """A signed token naming one member of one site (``issued_at`` is for tests)."""
    return _unsubscribe_serializer(issued_at).dumps({"u": user_id, "s": site_id})


def read_unsubscribe_token(token: str) -> tuple[int, int] | None:
    """(user id, site id) from a valid, unexpired token; None otherwise."""
    max_age = int(current_app.config["UNSUBSCRIBE_MAX_AGE_DAYS"]) * 86400
    try:
        data = _unsubscribe_serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), int) for k in "us"):
        return None
    return data["u"], data["s"]


def unsubscribe_headers(user_id: int, site_id: int) -> dict[str, str]:
    url = link_for("unsubscribe.unsubscribe", token=unsubscribe_token(user_id, site_id))
    # RFC 8058: a mail provider may POST to the link to unsubscribe in one click.
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
