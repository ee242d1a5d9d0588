"""How far each language's catalogue can be trusted (issue 17): what is missing or fuzzy, above
all among the safety-critical messages, and who reviewed the translation, when, of which version.

A translation of a warning sign or of emergency advice must be reviewed by a qualified medical
translator before a clinic relies on it. The review is recorded beside the catalogue, in
translations/<locale>/review.yaml (Babel keeps no header of its own in a catalogue it updates):

    status: reviewed
    reviewed_by: name and qualification
    reviewed_on: 2027-01-15
    version: the catalogue's digest when it was reviewed (`flask translations status` prints it)

A review holds for that version only: once any translation changes, the language counts as
unreviewed until the new version is reviewed.

`flask translations status` reports every language; production refuses to offer a language
whose safety-critical messages are missing or fuzzy, and an unreviewed one unless the setting
UNREVIEWED_LANGUAGES names it (app/i18n.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from app.translation_extract import SAFETY_CRITICAL

REVIEW_FILE = "review.yaml"


@dataclass(frozen=True)
class Review:
    """Who reviewed a catalogue, when, and which version of it (its review.yaml)."""

    status: str = "unreviewed"
    by: str = ""
    on: str = ""
    version: str = ""
    #: The digest of the catalogue as it is now, to compare with `version`.
    current_version: str = ""

    @property
    def reviewed(self) -> bool:
        """Reviewed, by someone, on a date, and nothing translated differently since."""
        return self.status == "reviewed" and bool(self.by and self.on) and self.version == self.current_version

    @property
    def out_of_date(self) -> bool:
        return self.status == "reviewed" and self.version != self.current_version


@dataclass(frozen=True)
class CatalogueStatus:
    """One language's catalogue measured against the template."""

    locale: str
    total: int
    missing: tuple[str, ...] = ()
    fuzzy: tuple[str, ...] = ()
    critical_missing: tuple[str, ...] = ()
    critical_fuzzy: tuple[str, ...] = ()
    review: Review = field(default_factory=Review)
    exists: bool = True

    @property
    def translated(self) -> int:
        return self.total - len(self.missing) - len(self.fuzzy)

    @property
    def safe(self) -> bool:
        """Every safety-critical message translated, none fuzzy."""
        return self.exists and not self.critical_missing and not self.critical_fuzzy


def _read(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def _is_critical(message: Message) -> bool:
    return any(SAFETY_CRITICAL in comment for comment in message.auto_comments)


def _translated(message: Message | None) -> bool:
    if message is None:
        return False
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return all(strings)


def status(directory: Path, locale: str) -> CatalogueStatus:
    """The catalogue of `locale` in `directory` against `directory`/messages.pot (read again only
    when one of the files changes: staff pages ask on every view)."""
    files = (
        directory / "messages.pot",
        directory / locale / "LC_MESSAGES" / "messages.po",
        directory / locale / REVIEW_FILE,
    )
    return _status(directory, locale, tuple(path.stat().st_mtime_ns if path.exists() else 0 for path in files))


@lru_cache(maxsize=32)
def _status(directory: Path, locale: str, _modified: tuple[int, ...]) -> CatalogueStatus:
    template = _read(directory / "messages.pot")
    keys = [(message.id, message.context) for message in template if message.id]
    critical = {(message.id, message.context) for message in template if message.id and _is_critical(message)}
    path = directory / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return CatalogueStatus(locale, len(keys), missing=tuple(_text(i) for i, _ in keys), exists=False)
    catalogue = _read(path)
    missing = [key for key in keys if not _translated(catalogue.get(*key))]
    fuzzy = [key for key in keys if key not in missing and catalogue.get(*key).fuzzy]  # type: ignore[union-attr]
    review = _review(path.parent.parent / REVIEW_FILE, digest(catalogue))
    return CatalogueStatus(
        locale,
        len(keys),
        missing=tuple(_text(i) for i, _ in missing),
        fuzzy=tuple(_text(i) for i, _ in fuzzy),
        critical_missing=tuple(_text(i) for i, c in missing if (i, c) in critical),
        critical_fuzzy=tuple(_text(i) for i, c in fuzzy if (i, c) in critical),
        review=review,
    )


def translations(directory: Path, locale: str) -> Mapping[str, str]:
    """The messages of `locale`'s catalogue that are translated and not fuzzy, message id ->
    translation (singular messages without a context, as the questionnaire's texts are); empty
    when it has no catalogue. Read from the .po, as `status` is, so that what is used is what a
    review's version names (app/fhir.py: the Questionnaire's translations)."""
    path = directory / locale / "LC_MESSAGES" / "messages.po"
    return _translations(path, path.stat().st_mtime_ns if path.exists() else 0)


@lru_cache(maxsize=16)
def _translations(path: Path, _modified: int) -> Mapping[str, str]:
    if not path.exists():
        return MappingProxyType({})
    found = {
        message.id: message.string
        for message in _read(path)
        if isinstance(message.id, str) and message.id and message.context is None
        if isinstance(message.string, str) and message.string and not message.fuzzy
    }
    return MappingProxyType(found)


def digest(catalogue: Catalog) -> str:
    """The version of a catalogue's translations: the first 16 hex digits of the SHA-256 of every
    message id with its translation and fuzzy flag (a comment or a reordering changes nothing)."""
    entries = sorted(
        (json.dumps(message.id), json.dumps(message.string), message.fuzzy) for message in catalogue if message.id
    )
    return hashlib.sha256(json.dumps(entries).encode("utf-8")).hexdigest()[:16]


def _review(path: Path, current_version: str) -> Review:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    if not isinstance(data, dict):
        return Review(current_version=current_version)
    return Review(
        status=str(data.get("status", "unreviewed")),
        by=str(data.get("reviewed_by") or ""),
        on=str(data.get("reviewed_on") or ""),
        version=str(data.get("version") or ""),
        current_version=current_version,
    )


def _text(message_id: object) -> str:
    """A message id as text (a plural message's id is its singular and plural)."""
    return str(message_id[0]) if isinstance(message_id, (list, tuple)) else str(message_id)
