"""Request and response shapes of the public API (marshmallow)."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from feedback.errors import coded
from feedback.models import SuggestionKind, SuggestionStatus
from feedback.origins import normalise_article_url

MAX_ARTICLE_CHARS = 500_000
MAX_QUOTE_CHARS = 1_000
MAX_CONTEXT_CHARS = 200
MAX_REPLACEMENT_CHARS = 2_000
MAX_COMMENT_CHARS = 5_000
MAX_NAME_CHARS = 200
MAX_SITE_KEY = 64
# Line breaks and other control characters in a name would let it smuggle mail headers.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


_PORT = r"(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]\d{4}|\d{1,4})"
_HOST = r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)"
# What an article URL looks like, for the OpenAPI document and for validation alike.
ARTICLE_URL_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]?://{_HOST}(:{_PORT})?([/?#]\S*)?$"
MAX_URL_CHARS = 2000

# The schemas' own field messages, each with its code (errors.py: field_codes).
URL_TOO_LONG = coded("Longer than {max} characters.", "too_long")
NOT_AN_ARTICLE_URL = coded("Not a valid article URL: {reason}.", "invalid_url")
NOT_HEX_SHA256 = coded("Not a hex SHA-256.", "invalid_sha256")
START_WITHOUT_END = coded("Give both start and end, or neither.", "incomplete")
END_BEFORE_START = coded("Must not be before start.", "out_of_range")
CONTROL_CHARACTERS_IN_NAME = coded(
    "Must not contain line breaks or control characters.", "control_characters"
)
EMAIL_NEEDED_TO_NOTIFY = coded("Needed to tell you what happened to the report.", "email_needed")


class ArticleUrl(fields.String):
    """An absolute http(s) URL, loaded in its normalised form."""

    def __init__(self, **kwargs):
        metadata = {"format": "uri", "pattern": ARTICLE_URL_PATTERN, "maxLength": MAX_URL_CHARS}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if len(text) > MAX_URL_CHARS:
            raise ValidationError(URL_TOO_LONG.format(max=MAX_URL_CHARS))
        if not re.match(ARTICLE_URL_PATTERN, text):
            raise ValidationError(
                NOT_AN_ARTICLE_URL.format(reason="must be an absolute http(s) URL")
            )
        try:
            return normalise_article_url(text)
        except ValueError as error:
            raise ValidationError(NOT_AN_ARTICLE_URL.format(reason=error)) from error


class ArticlePutIn(Schema):
    """PUT /api/v1/articles: a CMS pushes an article's current text."""

    url = ArticleUrl(required=True)
    title = fields.String(load_default="", validate=validate.Length(max=500))
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_ARTICLE_CHARS))


class ArticleIn(ArticlePutIn):
    """The article inside a reader's report: also the hash of the text the reader saw."""

    sha256 = fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9a-fA-F]{64}$", error=NOT_HEX_SHA256),
    )


class QuoteIn(Schema):
    exact = fields.String(required=True, validate=validate.Length(min=1, max=MAX_QUOTE_CHARS))
    prefix = fields.String(load_default="", validate=validate.Length(max=MAX_CONTEXT_CHARS))
    suffix = fields.String(load_default="", validate=validate.Length(max=MAX_CONTEXT_CHARS))
    start = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0))
    end = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=0))

    @validates_schema
    def check_positions(self, data, **kwargs):
        start, end = data.get("start"), data.get("end")
        if (start is None) != (end is None):
            raise ValidationError(START_WITHOUT_END, "end")
        if start is not None and end < start:
            raise ValidationError(END_BEFORE_START, "end")


class ReporterIn(Schema):
    name = fields.String(load_default=None, validate=validate.Length(max=MAX_NAME_CHARS))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    notify = fields.Boolean(load_default=False)

    @validates_schema
    def check_reporter(self, data, **kwargs):
        if data.get("name") and _CONTROL_CHARACTERS.search(data["name"]):
            raise ValidationError(CONTROL_CHARACTERS_IN_NAME, "name")
        if data.get("notify") and not data.get("email"):
            raise ValidationError(EMAIL_NEEDED_TO_NOTIFY, "email")


class SuggestionIn(Schema):
    """POST /api/v1/suggestions."""

    id = fields.UUID(
        required=True,
        metadata={
            "description": "Made by the client; a retry with the same id and body is stored once."
        },
    )
    site = fields.String(required=True, validate=validate.Length(min=1, max=MAX_SITE_KEY))
    kind = fields.Enum(SuggestionKind, by_value=True, load_default=SuggestionKind.TYPO)
    article = fields.Nested(ArticleIn, required=True)
    quote = fields.Nested(QuoteIn, load_default=None, allow_none=True)
    replacement = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_REPLACEMENT_CHARS)
    )
    comment = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_COMMENT_CHARS)
    )
    reporter = fields.Nested(ReporterIn, load_default=None, allow_none=True)
    website = fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"description": "Honeypot: people leave it empty."},
    )


class RevisionOut(Schema):
    number = fields.Integer()
    sha256 = fields.String()
    created_at = fields.AwareDateTime()


class ArticlePutOut(Schema):
    url = fields.String()
    title = fields.String()
    revision = fields.Nested(RevisionOut)
    created = fields.Boolean(metadata={"description": "Whether this text is a new revision."})
    reanchoring = fields.String(
        metadata={"description": "`scheduled` when open reports are being re-anchored."}
    )


class QuoteOut(Schema):
    exact = fields.String()
    prefix = fields.String()
    suffix = fields.String()
    start = fields.Integer()
    end = fields.Integer()


class ArticleOut(Schema):
    url = fields.String()
    title = fields.String()
    revision = fields.Integer(
        allow_none=True, metadata={"description": "Empty while the report is `received`."}
    )


class LinksOut(Schema):
    self = fields.String()


# The status of an accepted report until the worker files it (moments later).
RECEIVED = "received"
_REPORT_STATES = [RECEIVED, *(status.value for status in SuggestionStatus)]


class SuggestionOut(Schema):
    """A stored suggestion as the public API shows it (nothing about the reporter)."""

    id = fields.UUID()
    status = fields.String(
        validate=validate.OneOf(_REPORT_STATES),
        metadata={
            "enum": _REPORT_STATES,
            "description": "`received` until the report is filed, moments after it is sent.",
        },
    )
    kind = fields.Enum(SuggestionKind, by_value=True)
    article = fields.Nested(ArticleOut)
    quote = fields.Nested(QuoteOut, allow_none=True)
    replacement = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    duplicate_of = fields.UUID(allow_none=True)
    created_at = fields.AwareDateTime()
    links = fields.Nested(LinksOut)


class ErrorBody(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field path (like quote.exact) to its messages, in English."},
    )
    field_codes = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "The same field paths to one stable code each, such as "
            "`invalid_email`, `too_long` or `required`, for showing the reason in the "
            "reader's language (README: Field codes)."
        },
    )


class ErrorOut(Schema):
    """The one error shape of the API."""

    error = fields.Nested(ErrorBody, required=True)
