"""Configuration, read from environment variables only.

Every variable has a safe default for a laptop, so `make run` needs no set-up. Production is
opt-in (`IMS_ENV=production`) and refuses to start with a secret key anyone could know.
"""

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from limits import parse_many

from app import crypto

ENVIRONMENTS = ("development", "production")

#: Signs session cookies on development machines only. It is public (it is in this file), so
#: production refuses it.
DEV_SECRET_KEY = "ims-screen-development-only-secret-key"  # noqa: S105 -- public on purpose; production refuses it

#: 32 characters of `secrets.token_urlsafe` carry about 190 bits; shorter keys are usually typed
#: by hand and guessable.
MIN_SECRET_KEY_LENGTH = 32

SQLITE_FILENAME = "ims_screen.sqlite3"

#: Request size bounds (Flask 3.1), well above the largest real posts, measured with every box
#: ticked and every text field at its limit in 4-byte characters (12 bytes each once
#: url-encoded): a question page ~1 KB (the body map, 28 fields; the conditions page, 42), an
#: assessment request ~17 KB, a staff note of 4,000 characters ~48 KB. Anything bigger is not a
#: person filling in a form, and is refused with a 413 before it is parsed, instead of holding
#: a worker while megabytes of repeated values are read and echoed back.
MAX_CONTENT_LENGTH = 64 * 1024
#: One field of a multipart post: the longest real field (that staff note) is 16,000 bytes raw.
#: Browsers post these forms url-encoded, where MAX_CONTENT_LENGTH is the bound.
MAX_FORM_MEMORY_SIZE = 16 * 1024
#: Fields of a multipart post: the biggest form has 45 (the conditions page with its controls).
MAX_FORM_PARTS = 200

#: The clinic shown on development machines. Its phone number is in the 555-01xx range that
#: North American numbering reserves for fiction, and production refuses to start with it.
DEV_CLINIC = {
    "CLINIC_NAME": "Example Physiotherapy (development)",
    "CLINIC_PHONE": "604-555-0100",
    "CLINIC_LOCATIONS": "Vancouver; Surrey",
}


#: Prints a new Fernet key without starting the app, which refuses to start without one (so
#: `flask --app wsgi generate-encryption-key` cannot help while the production settings lack it).
NEW_ENCRYPTION_KEY_COMMAND = (
    '.venv/bin/python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)

#: Where the app is reached on a development machine (`make run`), on its default port.
DEV_PUBLIC_BASE_URL = "http://127.0.0.1:5000"


def development_base_url(environ: Mapping[str, str]) -> str:
    """`make run`'s address: 127.0.0.1 on the port it serves (PORT, which `make run` passes on).

    Links in pages and emails, the FHIR canonical URLs and the check of where a form was posted
    from all name this origin, so `make run PORT=5077` must not leave them on port 5000.
    """
    port = environ.get("PORT", "").strip()
    return f"http://127.0.0.1:{port}" if port.isdigit() else DEV_PUBLIC_BASE_URL


#: Email settings that only suit a development machine; production must name real ones.
DEV_MAIL = {
    "MAIL_FROM": "IMS Screen <no-reply@localhost>",
    "CLINIC_INBOX": "clinic@localhost",
}

#: Posts a patient's address may make across the patient pages (see app/patient/views.py).
DEFAULT_PATIENT_POST_LIMIT = "600 per 10 minutes"

#: Host names accepted besides PUBLIC_BASE_URL's: a proxy or a health check on the same machine.
DEFAULT_EXTRA_TRUSTED_HOSTS = "127.0.0.1, localhost"

#: Options of the database engine, the same on every backend.
ENGINE_OPTIONS: dict[str, Any] = {
    # Test each pooled connection with a round trip before a request uses it: after a database
    # restart or failover the pool holds dead connections, and without this the first request
    # on each of them fails.
    "pool_pre_ping": True,
    # SQL errors (logged with their statement) never show the bound values: those are answers,
    # contact details and token hashes.
    "hide_parameters": True,
}


#: Every language with patient pages besides English (app/i18n.py LANGUAGES).
ALL_LANGUAGES = "pa, zh-Hans, zh-Hant, fa"
#: The Babel catalogues, beside `templates/` at the top level (absolute: Flask-Babel would read a
#: relative path from the app's root, `app/`).
TRANSLATIONS_DIRECTORY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "translations")


class ConfigError(RuntimeError):
    """The environment describes a configuration the app must not run with."""


def config_from_env(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Build the Flask config from `environ`; raise `ConfigError` if it is unsafe or invalid."""
    env = environ.get("IMS_ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"IMS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
    production = env == "production"

    secret_key = environ.get("SECRET_KEY", "" if production else DEV_SECRET_KEY)
    if production:
        _check_production_secret_key(secret_key)

    clinic = {name: environ.get(name, "" if production else default) for name, default in DEV_CLINIC.items()}
    if production:
        _check_production_clinic(clinic)

    encryption_keys = environ.get("ENCRYPTION_KEYS", "")
    if production:
        _check_production_encryption_keys(encryption_keys)
    elif not encryption_keys:
        encryption_keys = crypto.development_key(instance_path)

    default_database_url = "sqlite:///" + os.path.join(instance_path, SQLITE_FILENAME)
    database_url = normalise_database_url(environ.get("DATABASE_URL", default_database_url))
    if production:
        _check_production_database(database_url)
    rate_limit_storage = environ.get("RATELIMIT_STORAGE_URI", "memory://")
    public_base_url = _public_base_url(
        environ.get("PUBLIC_BASE_URL", "" if production else development_base_url(environ)), production=production
    )
    mail = {name: environ.get(name, "" if production else default) for name, default in DEV_MAIL.items()}
    if production:
        _check_production_mail(mail)
    patient_idle_minutes = _positive_int(environ, "PATIENT_IDLE_MINUTES", 120)
    from app import measures  # here, not at the top: measures -> i18n -> config

    return {
        "IMS_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": ENGINE_OPTIONS,
        # Migrations as the role that owns the tables (deploy/postgresql-roles.sql), while the
        # app connects as one that cannot alter them. Empty: the app's own database URL.
        "MIGRATIONS_DATABASE_URL": normalise_database_url(environ.get("MIGRATIONS_DATABASE_URL", "")),
        "MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH,
        "MAX_FORM_MEMORY_SIZE": MAX_FORM_MEMORY_SIZE,
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Development is served over plain http on 127.0.0.1, where a Secure cookie is never sent.
        "SESSION_COOKIE_SECURE": production,
        "ENCRYPTION_KEYS": encryption_keys,
        "CLINIC_NAME": clinic["CLINIC_NAME"],
        "CLINIC_PHONE": clinic["CLINIC_PHONE"],
        "CLINIC_LOCATIONS": parse_locations(clinic["CLINIC_LOCATIONS"]),
        "BOOKING_URL": _booking_url(environ.get("BOOKING_URL", "")),
        "DRAFT_RETENTION_DAYS": _positive_int(environ, "DRAFT_RETENTION_DAYS", 7),
        "RESULT_VISIBLE_DAYS": _positive_int(environ, "RESULT_VISIBLE_DAYS", 30),
        "SMTP_HOST": environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _positive_int(environ, "SMTP_PORT", 587),
        "SMTP_USERNAME": environ.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag(environ, "SMTP_STARTTLS", default=True),
        "MAIL_FROM": mail["MAIL_FROM"],
        "CLINIC_INBOX": mail["CLINIC_INBOX"],
        "PUBLIC_BASE_URL": public_base_url,
        # Flask answers 400 to any other Host header (Flask 3.1 checks it on every request). Links
        # are built from PUBLIC_BASE_URL, never from the Host header, so this is a second fence:
        # the public name, plus the loopback names a local proxy or health check may send.
        "TRUSTED_HOSTS": trusted_hosts(public_base_url, environ.get("TRUSTED_HOSTS", DEFAULT_EXTRA_TRUSTED_HOSTS)),
        # Flask-WTF's own strict check compares the Referer with the request's Host header, which
        # a proxy that forwards its upstream address as Host breaks; app.security checks the
        # Origin (or Referer) of every unsafe request against PUBLIC_BASE_URL instead.
        "WTF_CSRF_SSL_STRICT": False,
        "NOTIFY_IN_BACKGROUND": _flag(environ, "NOTIFY_IN_BACKGROUND", default=True),
        "TRUSTED_PROXIES": _whole_number(environ, "TRUSTED_PROXIES", 0),
        "SCREENING_RETENTION_DAYS": _positive_int(environ, "SCREENING_RETENTION_DAYS", 400),
        # The follow-up after treatment (app/measures.py): the weeks after the first appointment
        # it is emailed at, how long its link works, and how late a missed time point may still go.
        "FOLLOW_UP_WEEKS": _weeks(environ, "FOLLOW_UP_WEEKS", measures.DEFAULT_FOLLOW_UP_WEEKS),
        "FOLLOW_UP_LINK_DAYS": _positive_int(environ, "FOLLOW_UP_LINK_DAYS", measures.DEFAULT_FOLLOW_UP_LINK_DAYS),
        "FOLLOW_UP_SEND_DAYS": _positive_int(environ, "FOLLOW_UP_SEND_DAYS", measures.DEFAULT_FOLLOW_UP_SEND_DAYS),
        "STAFF_MFA_REQUIRED": _flag(environ, "STAFF_MFA_REQUIRED", default=production),
        "STAFF_IDLE_MINUTES": _positive_int(environ, "STAFF_IDLE_MINUTES", 30),
        "PATIENT_IDLE_MINUTES": patient_idle_minutes,
        # A form's CSRF token lasts as long as a patient's browser keeps the screening (Flask-WTF's
        # default is an hour), so a question page read slowly is not refused while it is still open.
        "WTF_CSRF_TIME_LIMIT": patient_idle_minutes * 60,
        "STAFF_SESSION_HOURS": _positive_int(environ, "STAFF_SESSION_HOURS", 8),
        "RATELIMIT_STORAGE_URI": rate_limit_storage,
        # Posts per address across the patient pages (app/patient/views.py says why this many).
        "PATIENT_POST_LIMIT": _rate_limit(environ, "PATIENT_POST_LIMIT", DEFAULT_PATIENT_POST_LIMIT),
        "RATELIMIT_STORAGE_OPTIONS": _rate_limit_storage_options(rate_limit_storage),
        "RATELIMIT_ENABLED": _flag(environ, "RATELIMIT_ENABLED", default=True),
        # A limited response says how long to wait (Retry-After and the X-RateLimit-* headers).
        "RATELIMIT_HEADERS_ENABLED": True,
        # The languages patients may choose besides English (app/i18n.py), as BCP 47 tags. A
        # development machine offers every one shipped; production only those it names.
        "LANGUAGES": _languages(environ.get("LANGUAGES", "" if production else ALL_LANGUAGES)),
        # Languages production may offer before a medical translator has reviewed their
        # catalogue (an explicit opt-in; staff see that the translation is unreviewed).
        "UNREVIEWED_LANGUAGES": _languages(environ.get("UNREVIEWED_LANGUAGES", "")),
        # Where the compiled catalogues are: `translations/` unless another is named (the
        # browser tests serve a pseudo-translation from a directory of their own).
        "BABEL_TRANSLATION_DIRECTORIES": os.path.abspath(
            environ.get("TRANSLATIONS_DIRECTORY") or TRANSLATIONS_DIRECTORY
        ),
    }


def _public_base_url(url: str, *, production: bool) -> str:
    """The app's public origin, e.g. `https://screening.clinic.example`, without a trailing slash."""
    if production and not url:
        raise ConfigError(
            "Refusing to start in production: PUBLIC_BASE_URL is not set. Links in pages and emails "
            "(the patient's resume link, the clinic's portal links) are built from it."
        )
    parts = urlsplit(url)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ConfigError(f"PUBLIC_BASE_URL must be an origin such as https://screening.example.org, not {url[:60]!r}.")
    if production and parts.scheme != "https":
        raise ConfigError("Refusing to start in production: PUBLIC_BASE_URL must start with https://.")
    return f"{parts.scheme}://{parts.netloc}"


def trusted_hosts(public_base_url: str, extra: str) -> list[str]:
    """PUBLIC_BASE_URL's host name, then the extra names (comma-separated); ports do not matter."""
    names = [urlsplit(public_base_url).hostname or ""]
    names += [name.strip().lower() for name in extra.split(",") if name.strip()]
    return list(dict.fromkeys(names))


def _check_production_mail(mail: Mapping[str, str]) -> None:
    for name in DEV_MAIL:
        if not mail[name] or mail[name] == DEV_MAIL[name]:
            raise ConfigError(
                f"Refusing to start in production: {name} is not set. The clinic is emailed about "
                "emergencies and assessment requests from MAIL_FROM to CLINIC_INBOX."
            )


def _rate_limit(environ: Mapping[str, str], name: str, default: str) -> str:
    """A limit in Flask-Limiter's notation, such as "600 per 10 minutes"."""
    value = environ.get(name, default)
    try:
        parse_many(value)
    except ValueError:
        raise ConfigError(f"{name} must be a limit such as {default!r}, not {value[:40]!r}.") from None
    return value


def _rate_limit_storage_options(storage_uri: str) -> dict[str, Any]:
    """Storage errors arrive as one type (limits' StorageError), which app.errors answers with a
    503: with its store down, a limited route is refused, never left unlimited. A Redis that
    stops answering fails a request within a second rather than holding a worker."""
    options: dict[str, Any] = {"wrap_exceptions": True}
    if storage_uri.startswith(("redis://", "rediss://", "redis+")):
        options |= {"socket_connect_timeout": 1, "socket_timeout": 1}
    return options


def _whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {raw!r}.")
    return int(raw)


def _flag(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}.")


def parse_locations(value: str) -> list[str]:
    """Clinic locations from "Vancouver, 123 Main St; Surrey, 456 King George Blvd"."""
    return [location.strip() for location in value.split(";") if location.strip()]


def _booking_url(url: str) -> str:
    # Shown as a link to patients: only a web address may go there, never javascript: or data:.
    if url and not url.startswith(("https://", "http://")):
        raise ConfigError(f"BOOKING_URL must start with https:// (or http://), not {url[:20]!r}.")
    return url


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise ConfigError(f"{name} must be at least 1, not {value}.")
    return value


def _weeks(environ: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Whole numbers of weeks from "2, 6, 12": at least one, each at least 1, in order, none twice."""
    raw = environ.get(name)
    if raw is None:
        return default
    parts = [part.strip() for part in raw.split(",")]
    if not all(part.isascii() and part.isdigit() and int(part) >= 1 for part in parts):
        raise ConfigError(f"{name} must be whole numbers of weeks separated by commas, like 2,6,12, not {raw!r}.")
    return tuple(sorted({int(part) for part in parts}))


def _check_production_encryption_keys(keys: str) -> None:
    try:
        crypto.parse_keys(keys)
    except crypto.EncryptionKeyError as problem:
        raise ConfigError(
            f"Refusing to start in production: ENCRYPTION_KEYS is not usable ({problem}). Generate a key "
            f"with `{NEW_ENCRYPTION_KEY_COMMAND}`."
        ) from None


def _check_production_clinic(clinic: Mapping[str, str]) -> None:
    for name, development_value in DEV_CLINIC.items():
        if not clinic[name] or clinic[name] == development_value:
            raise ConfigError(
                f"Refusing to start in production: {name} is not set. Patients are shown the "
                "clinic's name, phone number and locations on every result page."
            )


#: Filesystems where SQLite's WAL (shared memory between processes on one host) is unsafe.
NETWORK_FILESYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "ceph", "glusterfs"})

#: The kernel's table of mounts (Linux); absent elsewhere, where the check is skipped.
MOUNTS = "/proc/self/mounts"


def filesystem_type(path: str, mounts: str | None = None) -> str | None:
    """The type of the filesystem holding `path` (the longest mount point above it), if known."""
    try:
        with open(mounts or MOUNTS, encoding="utf-8") as table:
            entries = [line.split()[1:3] for line in table if len(line.split()) >= 3]
    except OSError:
        return None
    resolved = os.path.realpath(path)
    above = [
        (point, kind) for point, kind in entries if resolved == point or resolved.startswith(point.rstrip("/") + "/")
    ]
    return max(above, key=lambda entry: len(entry[0]))[1] if above else None


def _check_production_database(database_url: str) -> None:
    if not database_url.startswith("sqlite:///"):
        return
    kind = filesystem_type(os.path.dirname(database_url.removeprefix("sqlite:///")) or ".")
    if kind in NETWORK_FILESYSTEMS:
        raise ConfigError(
            f"Refusing to start in production: the SQLite database is on a network filesystem ({kind}). "
            "SQLite's WAL needs every process on the same machine and a local disk; move the file to a "
            "local disk or use PostgreSQL."
        )


def normalise_database_url(url: str) -> str:
    """Point PostgreSQL URLs at psycopg 3, the only PostgreSQL driver installed.

    Hosting platforms hand out `postgres://` (which SQLAlchemy no longer accepts) or plain
    `postgresql://` (which SQLAlchemy maps to psycopg2).
    """
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def _check_production_secret_key(secret_key: str) -> None:
    if not secret_key:
        problem = "SECRET_KEY is not set"
    elif secret_key == DEV_SECRET_KEY:
        problem = "SECRET_KEY is the development default, which is public"
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problem = f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
    else:
        return
    raise ConfigError(
        f"Refusing to start in production: {problem}. Generate one with "
        '`python -c "import secrets; print(secrets.token_urlsafe(32))"`.'
    )


def _languages(value: str) -> tuple[str, ...]:
    """LANGUAGES: comma-separated BCP 47 tags of languages IMS Screen ships (English is always offered)."""
    from app.i18n import BY_TAG  # here: app.i18n imports Flask, which this module need not

    tags = tuple(tag.strip() for tag in value.split(",") if tag.strip())
    unknown = [tag for tag in tags if tag not in BY_TAG]
    if unknown:
        raise ConfigError(f"LANGUAGES names {', '.join(unknown)}; the languages shipped are {', '.join(BY_TAG)}.")
    return tags
