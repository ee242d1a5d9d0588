"""Encryption at rest of patients' contact details and staff authenticator secrets: Fernet
(AES-CBC + HMAC), keys rotated with MultiFernet.

The keys come from `ENCRYPTION_KEYS` (newest first). Columns typed `EncryptedText` hold only
ciphertext; a copy of the database without the keys reveals no name, email, phone or message,
and no TOTP secret to make a staff member's codes with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator


class EncryptionKeyError(ValueError):
    """The configured keys are missing or malformed."""


class _Keys:
    """The app's keys. Module-level because column types are converted outside any request."""

    fernet: MultiFernet | None = None
    index_key: bytes = b""
    link_fernet: Fernet | None = None


def parse_keys(value: str) -> list[Fernet]:
    """Fernet keys from "new_key,old_key"; raise EncryptionKeyError naming the problem."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise EncryptionKeyError("no encryption key is set")
    try:
        return [Fernet(key) for key in keys]
    except (ValueError, TypeError):
        raise EncryptionKeyError(
            "an encryption key is not a valid Fernet key (44 url-safe base64 characters)"
        ) from None


def development_key(instance_path: str) -> str:
    """A key kept in the instance folder, so a laptop's database stays readable across restarts."""
    path = Path(instance_path) / "encryption.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode("ascii"), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def configure(keys: list[Fernet], primary_key_text: str) -> None:
    _Keys.fernet = MultiFernet(keys)
    # A separate key for the search index, derived so it never equals the encryption key.
    _Keys.index_key = hashlib.sha256(b"ims-screen name index\0" + primary_key_text.encode("ascii")).digest()
    # And one for values put in links (page cursors): a link never carries data sealed with the
    # key that protects contact details at rest.
    link_key = hashlib.sha256(b"ims-screen link values\0" + primary_key_text.encode("ascii")).digest()
    _Keys.link_fernet = Fernet(base64.urlsafe_b64encode(link_key))


def encrypt(plaintext: str) -> str:
    assert _Keys.fernet is not None, "encryption keys are not configured"
    return _Keys.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Plaintext of a token made with any configured key; InvalidToken if tampered or unknown."""
    assert _Keys.fernet is not None, "encryption keys are not configured"
    return _Keys.fernet.decrypt(token.encode("ascii")).decode("utf-8")


def rotate(token: str) -> str:
    """The same plaintext, re-encrypted under the newest key."""
    assert _Keys.fernet is not None, "encryption keys are not configured"
    return _Keys.fernet.rotate(token.encode("ascii")).decode("ascii")


def seal_link_value(text: str) -> str:
    """`text` encrypted and authenticated for a URL (url-safe base64, no padding to escape)."""
    assert _Keys.link_fernet is not None, "encryption keys are not configured"
    return _Keys.link_fernet.encrypt(text.encode("utf-8")).decode("ascii").rstrip("=")


def open_link_value(token: str, max_age_seconds: int) -> str | None:
    """The text sealed in `token` by `seal_link_value` at most `max_age_seconds` ago, else None."""
    assert _Keys.link_fernet is not None, "encryption keys are not configured"
    try:
        padded = token + "=" * (-len(token) % 4)
        return _Keys.link_fernet.decrypt(padded.encode("ascii"), ttl=max_age_seconds).decode("utf-8")
    except (InvalidToken, ValueError):  # ValueError: not base64, or not UTF-8 (neither can be sealed here)
        return None


def search_hash(text: str) -> str:
    """A keyed hash of a name, for exact search without storing the name in clear ("blind index")."""
    normalised = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hmac.new(_Keys.index_key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedText(TypeDecorator[str]):
    """Text stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


def init_app(app: Flask) -> None:
    """Load the keys from the configuration."""
    keys_text = app.config["ENCRYPTION_KEYS"]
    # The first non-empty key, as parse_keys reads it: with ",KEY" the index key must not come from "".
    primary = next((part.strip() for part in keys_text.split(",") if part.strip()), "")
    configure(parse_keys(keys_text), primary)


__all__ = [
    "EncryptedText",
    "InvalidToken",
    "EncryptionKeyError",
    "decrypt",
    "encrypt",
    "open_link_value",
    "rotate",
    "seal_link_value",
    "search_hash",
]
