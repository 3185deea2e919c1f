"""Operations on sites: making one, its name, its allowed origins and its options; and
the directory of site keys and origins each process keeps for the API.

The editor UI, the ``feedback site`` command and the demo all call these. None commits.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import event, select

from feedback.errors import Invalid
from feedback.extensions import db
from feedback.models import NotifySetting, Site, SiteSettings
from feedback.models.core import TITLE_SUFFIX_MAX
from feedback.origins import InvalidOrigin, origin_allowed, parse_allowed_origin, url_on_origins
from feedback.text import has_unstorable_text

NAME_MAX = 200
MAX_ORIGINS = 100


def checked_name(raw: str) -> str:
    name = (raw or "").strip()
    if not name:
        raise Invalid.field("name", "Give the site a name.")
    if len(name) > NAME_MAX:
        raise Invalid.field("name", f"Keep the name to {NAME_MAX} characters or fewer.")
    return name


def parse_origins(lines: Iterable[str], where: str = "Line") -> list[str]:
    """Allowed origins, one an entry (blank ones skipped, duplicates dropped, order kept),
    each in its canonical form; Invalid naming the first bad entry (``where`` and its
    number), or too many."""
    origins: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            origin = parse_allowed_origin(line)
        except InvalidOrigin as error:
            raise Invalid.field("origins", f"{where} {number}: {error}") from None
        if origin not in origins:
            origins.append(origin)
    if len(origins) > MAX_ORIGINS:
        raise Invalid.field(
            "origins",
            f"At most {MAX_ORIGINS} origins, please: use a wildcard like https://*.host",
        )
    return origins


def create_site(
    name: str, origins: Iterable[str], public_key: str | None = None, where: str = "Line"
):
    """A new site with its checked name and origins; returns (site, its secret, shown once)."""
    site = Site(
        name=checked_name(name),
        public_key=public_key or Site.new_public_key(),
        allowed_origins=parse_origins(origins, where),
        settings=SiteSettings().as_json(),
    )
    secret = site.rotate_secret()
    db.session.add(site)
    db.session.flush()
    return site, secret


def rename(site: Site, name: str) -> None:
    site.name = checked_name(name)


def set_origins(site: Site, lines: Iterable[str]) -> list[str]:
    site.allowed_origins = parse_origins(lines)
    return site.allowed_origins


def add_origins(site: Site, lines: Iterable[str]) -> list[str]:
    """Allow these origins too, keeping the ones the site has."""
    return set_origins(site, [*(site.allowed_origins or []), *lines])


def set_options(
    site: Site,
    *,
    default_notify: NotifySetting | None = None,
    notify_readers_on_reject: bool | None = None,
    corrections_public: bool | None = None,
    fetch_pages: bool | None = None,
) -> SiteSettings:
    """Change the options given, keep the others."""
    changes = {
        "default_notify": default_notify,
        "notify_readers_on_reject": notify_readers_on_reject,
        "corrections_public": corrections_public,
        "fetch_pages": fetch_pages,
    }
    return site.change_options(**{k: v for k, v in changes.items() if v is not None})


def set_title_suffix(site: Site, raw: str) -> str:
    """The suffix the site's titles carry (" · Sport", say), left off where titles are
    listed besides " — Site name"; empty for none."""
    suffix = (raw or "").strip()
    if len(suffix) > TITLE_SUFFIX_MAX:
        raise Invalid.field(
            "title_suffix", f"Keep the suffix to {TITLE_SUFFIX_MAX} characters or fewer."
        )
    if has_unstorable_text(suffix) or any(char in suffix for char in "\r\n"):
        raise Invalid.field("title_suffix", "The suffix is one line of ordinary text.")
    site.change_options(title_suffix=suffix)
    return suffix


# --- the directory of site keys -----------------------------------------------------------


@dataclass(frozen=True)
class SiteKey:
    """What accepting a report needs of its site."""

    id: int
    allowed_origins: list[str]

    def allows_origin(self, origin: str) -> bool:
        return origin_allowed(origin, self.allowed_origins)

    def allows_article_url(self, url: str) -> bool:
        return url_on_origins(url, self.allowed_origins)


@dataclass(frozen=True)
class _Directory:
    loaded_at: float
    generation: int
    by_key: dict[str, SiteKey]
    origins: tuple[str, ...]  # every site's allowed origins


# Bumped whenever this process writes a site, so its own changes show at once; other
# processes see them within SITE_CACHE_SECONDS.
_generation = 0


def _site_written(*_args) -> None:
    global _generation
    _generation += 1


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Site, _event, _site_written)


def _directory() -> _Directory:
    """Every site's key and origins, read at most every SITE_CACHE_SECONDS per process:
    a flood of reports with made-up keys or foreign origins is refused without a query."""
    holder = current_app.extensions.setdefault("feedback_site_directory", {})
    directory = holder.get("current")
    now = time.monotonic()
    if (
        directory is None
        or directory.generation != _generation
        or now - directory.loaded_at >= float(current_app.config["SITE_CACHE_SECONDS"])
    ):
        generation = _generation
        rows = db.session.execute(select(Site.id, Site.public_key, Site.allowed_origins)).all()
        by_key = {row.public_key: SiteKey(row.id, list(row.allowed_origins or [])) for row in rows}
        origins = tuple(origin for site in by_key.values() for origin in site.allowed_origins)
        directory = _Directory(now, generation, by_key, origins)
        holder["current"] = directory
    return directory


def site_key(public_key: str) -> SiteKey | None:
    """The site with this public key (as of a few seconds ago), or None."""
    return _directory().by_key.get(public_key)


def any_site_allows(origin: str) -> bool:
    """Whether some site lists ``origin`` (for a preflight, which names no site)."""
    return origin_allowed(origin, _directory().origins)
