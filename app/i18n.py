"""The patient's own language: which languages are offered, which one a request is in, and the
switch between them (issue 17). Staff pages are always in English.

Translations are Babel catalogues in `translations/` (made by `make translations`, compiled by
`make run` and `make test`); the questionnaire's and the rule set's patient texts are extracted
from their YAML by `app.translation_extract`, so a template translates them with `_()` like any
other string.

The language of a request: a language the person chose (kept in the session), else the best
match for the browser's Accept-Language among those offered, else English. Choosing is a plain
link (`?lang=pa`), answered by a redirect to the same page without the parameter, so that no
URL carries the choice and Back works.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from babel.core import Locale
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import NullTranslations
from flask import Flask, current_app, has_request_context, redirect, request, session
from flask_babel import Babel, force_locale, get_locale, get_translations
from werkzeug.wrappers import Response

from app import catalogues
from app.config import ConfigError
from app.links import is_staff_address

#: The session key of the language the person chose.
LANGUAGE_KEY = "language"
#: The query parameter of the language links.
LANGUAGE_PARAMETER = "lang"


@dataclass(frozen=True)
class Language:
    """A language the patient pages can be read in."""

    #: The BCP 47 tag, for `lang` attributes, links and what is stored with a screening.
    tag: str
    #: Babel's locale identifier, the name of its folder in `translations/`.
    locale: str
    #: The language's name in itself, for the switcher.
    name: str
    #: Its name in English, for staff ("answered in Punjabi").
    english_name: str
    direction: str = "ltr"


#: Every language IMS Screen has patient pages in, English first.
LANGUAGES: tuple[Language, ...] = (
    Language("en-CA", "en", "English", "English"),
    Language("pa", "pa", "ਪੰਜਾਬੀ", "Punjabi"),
    Language("zh-Hans", "zh_Hans", "简体中文", "Chinese (Simplified)"),
    Language("zh-Hant", "zh_Hant", "繁體中文", "Chinese (Traditional)"),
    Language("fa", "fa", "فارسی", "Farsi", "rtl"),
)
BY_TAG = {language.tag: language for language in LANGUAGES}
ENGLISH = LANGUAGES[0]


def offered(app: Flask) -> tuple[Language, ...]:
    """The languages this installation offers patients, English always first (worked out once,
    when the app starts: `_work_out_offered`)."""
    languages: tuple[Language, ...] = app.extensions["ims_languages"]
    return languages


def _work_out_offered(app: Flask) -> tuple[Language, ...]:
    """Those named in the setting LANGUAGES whose catalogue is compiled (`make translations`), so
    that a page never claims a language its text is not in. Production also refuses to start
    with a language it cannot trust (`trust_problem`), rather than quietly leaving it out."""
    tags = app.config["LANGUAGES"]
    directory = app.config["BABEL_TRANSLATION_DIRECTORIES"]
    chosen = [language for language in LANGUAGES if language is not ENGLISH and language.tag in tags]
    if app.config["IMS_ENV"] == "production":
        problems = [problem for language in chosen if (problem := trust_problem(app, language))]
        if problems:
            raise ConfigError("; ".join(problems))
    compiled = [language for language in chosen if _compiled(directory, language.locale)]
    return (ENGLISH, *compiled)


def trust_problem(app: Flask, language: Language) -> str | None:
    """Why `language` must not be offered in production, or None: its safety-critical messages
    must all be translated and none fuzzy, and its translation reviewed, unless the setting
    UNREVIEWED_LANGUAGES opts in to it (catalogues.py)."""
    found = catalogues.status(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]), language.locale)
    name = f"{language.english_name} ({language.tag})"
    if not found.exists:
        return f"{name} has no catalogue"
    if not found.safe:
        count = len(found.critical_missing) + len(found.critical_fuzzy)
        return f"{name} lacks {count} safety-critical translations (missing or fuzzy): see `flask translations status`"
    if not found.review.reviewed and language.tag not in app.config["UNREVIEWED_LANGUAGES"]:
        return (
            f"{name} has not been reviewed by a medical translator; record the review in its catalogue, "
            "or name it in UNREVIEWED_LANGUAGES to offer it anyway"
        )
    return None


def unreviewed(app: Flask, tag: str) -> bool:
    """Whether the catalogue of the language `tag` records no review (staff pages say so)."""
    language = BY_TAG.get(tag)
    if language is None or language is ENGLISH:
        return False
    return not catalogues.status(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]), language.locale).review.reviewed


def _compiled(directory: str, locale: str) -> bool:
    return os.path.exists(os.path.join(directory, locale, "LC_MESSAGES", "messages.mo"))


def current() -> Language:
    """The language of this request (English outside one: emails, commands)."""
    if not has_request_context() or not _for_patients():
        return ENGLISH
    languages = offered(current_app)
    chosen = BY_TAG.get(session.get(LANGUAGE_KEY, ""))
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match([language.tag for language in languages])
    return BY_TAG.get(best or "", ENGLISH)


#: The blueprints whose pages are in the patient's language; every other page is in English.
PATIENT_BLUEPRINTS = frozenset({"patient"})


def _for_patients() -> bool:
    """Whether this request's page is a patient's: one of the patient blueprint's, or the error
    page of an address no blueprint serves (a mistyped or outdated link, most likely a patient's)
    outside the staff pages."""
    if request.blueprint is not None:
        return request.blueprint in PATIENT_BLUEPRINTS
    return not is_staff_address(request.path)


def _select_locale() -> str:
    return current().locale


def _switch_language() -> Response | None:  # a before_request handler
    """Answer a language link: keep the choice, then show the same page without the parameter."""
    tag = request.args.get(LANGUAGE_PARAMETER)
    if tag is None or request.method != "GET" or request.blueprint not in PATIENT_BLUEPRINTS:
        return None
    choose(tag)
    query = urlencode([(name, value) for name, value in request.args.items(multi=True) if name != LANGUAGE_PARAMETER])
    return redirect(request.path + (f"?{query}" if query else ""), code=303)


def choose(tag: str) -> None:
    """Read the patient pages in the language `tag` from now on, if this installation offers it."""
    if BY_TAG.get(tag) in offered(current_app):
        session[LANGUAGE_KEY] = tag


def language_links() -> list[tuple[Language, str]]:
    """For the switcher: each other offered language and the link that switches to it; none on a
    staff page, which is always English."""
    if not _for_patients():
        return []
    here = current()
    return [
        (language, f"{request.path}?{LANGUAGE_PARAMETER}={language.tag}")
        for language in offered(current_app)
        if language is not here
    ]


def translate(text: str) -> str:
    """A text of the questionnaire or the rule set in the page's language (the `translate` filter).

    Plain text, which Jinja escapes like any other value: unlike `_()` on a template's own
    words, whose translation Jinja trusts as markup.
    """
    return _translations().ugettext(text) if text else text


#: The catalogue last looked up in this thread or task, with the app and the language it is for.
_last_catalogue: ContextVar[tuple[Flask, Locale, NullTranslations] | None] = ContextVar("last_catalogue", default=None)


def _translations() -> NullTranslations:
    """The catalogue of the language in force: the request's, or the one an email is written in
    (`flask_babel.force_locale`).

    Flask-Babel's own `gettext` finds the language, the domain and the catalogue anew, through a
    dozen context-local lookups, for every string: some 50 times a question page. A language's
    catalogue does not change while the app runs (Flask-Babel keeps it app-wide), so here only
    the language is looked up each time, and its catalogue is reused while it stays the same."""
    locale = get_locale()
    if locale is None:  # no app context: Flask-Babel's untranslated catalogue
        return get_translations()
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    last = _last_catalogue.get()
    if last is not None and last[0] is app and last[1] == locale:
        return last[2]
    catalogue = get_translations()
    _last_catalogue.set((app, locale, catalogue))
    return catalogue


def in_english(render: Callable[..., str], *args: object, **kwargs: object) -> str:
    """What `render` (a template's macro, say) gives in English, whatever the page's language:
    for the text of a patient page that a doctor reads beside the patient's own language. Its
    words, the questionnaire's and rule set's texts, answers and dates are all in English."""
    with force_locale(ENGLISH.locale):
        return render(*args, **kwargs)


def N_(text: str) -> str:
    """Mark `text` for the catalogue (babel.cfg) where it must stay English: the caller translates
    it with `gettext` where a patient reads it."""
    return text


def number_text(number: int) -> str:
    """A whole number as the page's language writes it (Babel), with no thousands separator:
    answers are ages and durations, read like "2600", never "2,600"."""
    return format_decimal(number, locale=get_locale() or ENGLISH.locale, group_separator=False)


def list_text(items: list[str]) -> str:
    """Items as the page's language lists them (Babel), e.g. "2, 6 and 12"."""
    return format_list(items, locale=get_locale() or ENGLISH.locale)


def init_app(app: Flask) -> None:
    app.extensions["ims_languages"] = _work_out_offered(app)
    Babel(app, locale_selector=_select_locale)
    # `{% trans %}` blocks are extracted and looked up with their line breaks and indentation
    # collapsed, so that re-wrapping a template's paragraph does not change its message id.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    # The templates' `_()` through the same catalogue lookup as `translate` (Flask-Babel installs
    # callables that find it anew for every string).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: _translations().ugettext(text),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: _translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(context, singular, plural, n),
        newstyle=True,
    )
    app.add_template_filter(translate)
    app.before_request(_switch_language)
    app.add_template_global(current, "current_language")
    app.add_template_global(language_links)
    app.add_template_global(in_english)
    app.jinja_env.globals["english"] = ENGLISH
    app.add_template_filter(number_text)
    app.add_template_filter(list_text)
