"""The patient's own language (issue 17): the catalogue template holds every string a patient
reads from the questionnaire and the rule set, languages are chosen by plain links and the
browser's preference, and staff pages stay English."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterable
from email.message import EmailMessage
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

import rules
from app import create_app, notifications
from app.config import ConfigError, config_from_env
from app.extensions import db
from app.models import Notification, Screening
from app.patient.views import LAST_USED_KEY
from rules.outcomes import CATALOGUE, Outcome
from rules.questionnaire import QuestionType
from tests.support.booking_pages import OUTCOME_CHANGES, REQUEST, SENT, post_request, submit_outcome
from tests.support.journey import (
    CHECK,
    REASSURANCE,
    RESULT,
    SAVED,
    SECTIONS,
    SUBMIT,
    Journey,
    answers_before,
    form_data,
    profile,
    seed_draft,
)
from tests.support.pseudo_locale import TEMPLATE, pseudo, pseudo_catalogue, untranslated, write_pseudo_catalogue

pytestmark = pytest.mark.one_backend
ROOT = Path(__file__).resolve().parents[1]


def template_messages(path: Path = TEMPLATE) -> set[tuple[str, str | None]]:
    """Each message of a catalogue template: its id and its context."""
    with path.open("rb") as file:
        return {(str(message.id), message.context) for message in read_po(file) if message.id}


def template_ids(path: Path = TEMPLATE) -> set[str]:
    return {message_id for message_id, _ in template_messages(path)}


def patient_texts() -> set[str]:
    """Every questionnaire and rule-set text a patient can read, as the loaders give them."""
    questionnaire = rules.questionnaire()
    texts: set[str] = set()
    for section in questionnaire.sections:
        texts.update(t for t in (section.title, section.intro, section.intro_proxy) if t)
        for checklist in section.checklists:
            texts.update(t for t in (checklist.text, checklist.text_proxy, checklist.hint, checklist.hint_proxy) if t)
    for question in questionnaire:
        texts.update(t for t in (question.text, question.text_proxy, question.hint, question.hint_proxy) if t)
        texts.update(t for t in (question.checklist_label, question.checklist_label_proxy) if t)
        texts.update(t for t in question.scale_labels or ())
        for choice in question.choices:
            texts.update(t for t in (choice.label, choice.hint) if t)
    assert questionnaire.safety_net is not None
    for tier in questionnaire.safety_net.tiers:
        texts.update({tier.text, tier.text_proxy, *(sign.text for sign in tier.signs)})
    texts.update(rule.patient_text for rule in rules.ruleset().rules)
    texts.update(details.patient_label for details in CATALOGUE.values())
    return texts


def test_the_catalogue_template_holds_every_text_a_patient_reads_from_the_yaml_and_the_outcomes() -> None:
    assert sorted(patient_texts() - template_ids()) == []


def test_the_catalogue_template_is_up_to_date(tmp_path: Path) -> None:
    """Run `make translations` after changing a patient's string."""
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
         "-k", "lazy_pgettext:1c,2", "--no-location", "-o", str(fresh), "."],
        cwd=ROOT, check=True, capture_output=True, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip
    assert template_messages(fresh) == template_messages()


@pytest.fixture
def pseudo_app(tmp_path: Path) -> Flask:
    """The app with Punjabi and Farsi 'translated' by the pseudo-translation."""
    for locale in ("pa", "fa"):
        write_pseudo_catalogue(tmp_path, locale)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path),
            "LANGUAGES": ("pa", "fa"),
            "RATELIMIT_ENABLED": False,
            "NOTIFY_IN_BACKGROUND": False,  # the tests send the emails themselves
        }
    )
    from app.extensions import db

    with app.app_context():
        db.create_all()
    return app


def test_a_language_link_switches_the_page_and_leaves_no_trace_in_the_url(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    seed_draft(pseudo_app, client, answers_before("warning_signs", profile("ideal_neck")))
    page = client.get("/screening/warning_signs").get_data(as_text=True)
    assert '<html lang="en-CA">' in page and 'href="/screening/warning_signs?lang=pa" lang="pa"' in page
    response = client.get("/screening/warning_signs?lang=pa")
    assert (response.status_code, response.location) == (303, "/screening/warning_signs")
    page = client.get("/screening/warning_signs").get_data(as_text=True)
    assert '<html lang="pa">' in page
    checklist = rules.questionnaire().section("warning_signs").checklists[0]  # type: ignore[union-attr]
    assert pseudo(checklist.text) in page and pseudo(checklist.items[0].checklist_label or "") in page
    assert 'lang="en-CA"' in page and ">English<" in page  # the way back, named in itself


def test_farsi_pages_read_right_to_left(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    client.get("/?lang=fa")
    assert '<html lang="fa" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_the_browsers_language_is_the_default_and_a_language_not_offered_is_ignored(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    assert '<html lang="pa">' in client.get("/", headers={"Accept-Language": "pa-IN, en;q=0.5"}).get_data(as_text=True)
    client.get("/?lang=zh-Hans")  # shipped, but not offered here
    assert '<html lang="en-CA">' in client.get("/").get_data(as_text=True)


def test_staff_pages_stay_in_english(pseudo_app: Flask) -> None:
    client = pseudo_app.test_client()
    client.get("/?lang=pa")
    page = client.get("/staff/sign-in").get_data(as_text=True)
    assert '<html lang="en-CA">' in page and "⟦" not in page


def test_a_language_is_offered_only_with_its_catalogue(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path), "LANGUAGES": ("pa",)})
    client = app.test_client()
    client.get("/?lang=pa")
    assert '<html lang="en-CA">' in client.get("/").get_data(as_text=True)


def test_the_languages_setting_names_only_shipped_languages(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LANGUAGES names xx"):
        config_from_env({"LANGUAGES": "pa, xx"}, str(tmp_path))
    assert config_from_env({"LANGUAGES": " fa ,pa"}, str(tmp_path))["LANGUAGES"] == ("fa", "pa")


# --- Every patient page, pseudo-translated -------------------------------------------------------


def punjabi_reader(app: Flask) -> FlaskClient:
    """A browser that prefers Punjabi: its pages come in the pseudo-translation (`pseudo_app`)."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "pa"
    return client


class Pages:
    """Pages read through the test client, by name, for `untranslated`."""

    def __init__(self) -> None:
        self.html: dict[str, str] = {}

    def get(self, name: str, client: FlaskClient, path: str, status: int = 200) -> None:
        response = client.get(path)
        assert response.status_code == status, f"{name}: GET {path} gave {response.status_code} {response.location}"
        self.html[name] = response.get_data(as_text=True)

    def post(self, name: str, client: FlaskClient, path: str, data: dict[str, object], status: int) -> None:
        response = client.post(path, data=data)
        assert response.status_code == status, f"{name}: POST {path} gave {response.status_code}"
        if status != 303:
            self.html[name] = response.get_data(as_text=True)


def question_pages(app: Flask, pages: Pages) -> None:
    """Every question page as it opens, then with the errors of a page sent with its numbers
    typed as words and nothing else answered."""
    answers = profile("ideal_neck")
    for section in SECTIONS:
        client = punjabi_reader(app)
        seed_draft(app, client, answers_before(section.id, answers))
        pages.get(section.id, client, f"/screening/{section.id}")
        words = {q.id: "twelve" for q in section.questions if q.type in (QuestionType.INTEGER, QuestionType.DURATION)}
        response = Journey(client).post_step(section.id, {"action": "continue", **words})
        assert response.status_code == 303, section.id
        pages.get(f"{section.id} (errors)", client, f"/screening/{section.id}")


def result_pages(app: Flask, pages: Pages) -> None:
    """Every outcome's result page; for a bookable one, the request form (empty, then with its
    errors), the confirmation, and the result once the request is made."""
    for outcome in OUTCOME_CHANGES:
        client = punjabi_reader(app)
        submit_outcome(app, client, outcome)
        pages.get(f"result {outcome}", client, RESULT)
        pages.get(f"summary {outcome}", client, "/screening/summary")
        if Outcome(outcome).medical:  # in English for the doctor (marked so), and the person's language
            pages.get(f"letter {outcome}", client, "/screening/letter")
    client = punjabi_reader(app)
    submit_outcome(app, client, "likely")
    pages.get("request form", client, REQUEST)
    token = Journey(client).csrf_token()
    pages.post("request form (errors)", client, REQUEST, {"csrf_token": token}, status=400)
    assert post_request(client).status_code == 303
    pages.get("request sent", client, SENT)
    pages.get("result after the request", client, RESULT)


def draft_pages(app: Flask, pages: Pages) -> None:
    """The pages around the questions: reassurance, check, saved, another screening open, timed out."""
    client = punjabi_reader(app)
    seed_draft(app, client, profile("ideal_neck"))
    pages.get("needle reassurance", client, REASSURANCE)
    pages.get("check your answers", client, CHECK)
    pages.get("saved", client, SAVED)
    pages.get("404 of a patient page", client, "/screening/no-such-section", status=404)
    _, other = seed_draft(app, answers=profile("ideal_neck"))
    pages.get("another screening is open", client, f"/resume/{other}")
    token = Journey(client).csrf_token()
    pages.post("another screening is open (errors)", client, f"/resume/{other}", {"csrf_token": token}, status=400)
    with client.session_transaction() as session:
        session[LAST_USED_KEY] = 0  # unused for far longer than PATIENT_IDLE_MINUTES
    pages.get("timed out", client, CHECK)


def open_pages(app: Flask, pages: Pages) -> None:
    """The pages anyone can open, and the error pages."""
    client = punjabi_reader(app)
    pages.get("landing", client, "/")
    pages.get("privacy", client, "/privacy")
    pages.get("consent", client, "/start")
    token = Journey(client).csrf_token()
    pages.post("consent (errors)", client, "/start", {"csrf_token": token}, status=400)
    pages.get("declined", client, "/no-consent")
    pages.get("resume link that no longer works", client, "/resume/not-a-token", status=404)
    pages.get("404 at an unknown address", client, "/no-such-page", status=404)
    pages.post("400", client, SUBMIT, {}, status=400)


def clinic_words(app: Flask) -> list[str]:
    """What a page shows as it is in every language: the clinic's name, phone number and
    locations, and the screenings' references."""
    with app.app_context():
        references = list(db.session.scalars(select(Screening.reference)))
    config = app.config
    return [config["CLINIC_NAME"], config["CLINIC_PHONE"], *config["CLINIC_LOCATIONS"], *references]


def test_every_patient_page_is_in_the_patients_language(pseudo_app: Flask) -> None:
    """Every English sentence a patient can read goes through the catalogue: a page rendered in
    the pseudo-translation shows none unbracketed (a hard-coded one fails this test)."""
    pages = Pages()
    open_pages(pseudo_app, pages)
    question_pages(pseudo_app, pages)
    draft_pages(pseudo_app, pages)
    result_pages(pseudo_app, pages)
    allowed = clinic_words(pseudo_app)
    left_in_english = {name: words for name, html in pages.html.items() if (words := untranslated(html, allowed))}
    assert left_in_english == {}
    assert all('<html lang="pa">' in html for html in pages.html.values())


def test_a_sentence_left_out_of_the_catalogue_is_found() -> None:
    """The check behind the test above, on a page of its own: only unbracketed words count."""
    page = """<!doctype html><html lang="pa"><head><title>⟦Title···⟧</title><style>p{color:red}</style>
    </head><body><a lang="en-CA" href="/?lang=en-CA">English</a><p>⟦Your reference is <b>AB-12</b>··⟧</p>
    <p>⟦Answer the questions on “⟦About you···⟧”·····⟧. ⟦Call⟧ 604-555-0100</p><nav aria-label="Back"></nav>
    <p>Hard-coded English</p><script>var english = "words";</script></body></html>"""
    assert untranslated(page, ["AB-12"]) == ["Back", "Hard-coded English"]


def test_the_patients_confirmation_email_is_in_their_language_and_the_clinics_in_english(
    pseudo_app: Flask,
) -> None:
    client = punjabi_reader(pseudo_app)
    submit_outcome(pseudo_app, client, "likely")
    assert post_request(client).status_code == 303
    sent: list[EmailMessage] = []
    with pseudo_app.app_context():
        # As a retry or `flask notify` would: nothing but what the screening stores says the language.
        notifications.deliver_due(sent.append)
        kinds = list(db.session.scalars(select(Notification.kind).order_by(Notification.id)))
    emails = dict(zip(kinds, sent, strict=True))
    patient, clinic = emails["patient_request_confirmation"], emails["clinic_new_request"]
    assert str(patient["Subject"]).startswith("⟦") and "⟦In an emergency, call 911." in patient.get_content()
    assert "⟦" not in str(clinic["Subject"]) + clinic.get_content()


def test_a_language_forced_within_a_request_is_the_one_its_texts_are_in(pseudo_app: Flask) -> None:
    # Texts are looked up in the catalogue last used while the language stays the same: an email
    # written in another language within a request (flask_babel.force_locale) is in that
    # language, templates and questionnaire texts alike, and the page's language is back after it.
    from flask import render_template_string
    from flask_babel import force_locale

    from app.i18n import translate

    english = "In an emergency, call 911.|Not sure"

    def texts() -> str:
        return render_template_string("{{ _('In an emergency, call 911.') }}|{{ 'Not sure' | translate }}")

    with pseudo_app.test_request_context("/", headers={"Accept-Language": "fa"}):
        farsi = texts()
        with force_locale("en_CA"):
            assert texts() == english
            assert translate("Not sure") == "Not sure"
        assert texts() == farsi
    with pseudo_app.test_request_context("/", headers={"Accept-Language": "en-CA"}):
        assert texts() == english
        with force_locale("pa"):
            assert texts() == farsi  # the pseudo-translation is the same in both
            assert translate("Not sure") == farsi.split("|")[1]
        assert texts() == english
    assert farsi.startswith("⟦In an emergency") and farsi.split("|")[1].startswith("⟦Not sure")


def test_numbers_typed_in_gurmukhi_persian_or_arabic_indic_digits_are_read(pseudo_app: Flask) -> None:
    about = next(s for s in SECTIONS if any(q.type is QuestionType.INTEGER for q in s.questions))
    age = next(q for q in about.questions if q.type is QuestionType.INTEGER)
    answers = profile("ideal_neck")
    for digits in ("੪੫", "۴۵", "٤٥"):
        client = punjabi_reader(pseudo_app)
        seed_draft(pseudo_app, client, answers_before(about.id, answers))
        journey = Journey(client)
        posted = {**form_data(about.id, answers), age.id: digits}
        assert journey.post_step(about.id, {"action": "continue", **posted}).status_code == 303
        with pseudo_app.app_context():
            screening = db.session.scalars(select(Screening).order_by(Screening.id.desc())).first()
            assert screening is not None and screening.answers[age.id] == 45, digits


# --- Placeholders -------------------------------------------------------------------------------

#: A Python-format placeholder, as Babel and Jinja write them: `%(name)s`, `%(name)d` or `%s`.
PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[sd]")


def placeholders(text: str) -> set[str]:
    return {match.group(1) or "%s" for match in PLACEHOLDER.finditer(text.replace("%%", ""))}


def placeholder_problems(catalogue: Catalog) -> list[str]:
    """Each translation whose placeholders differ from its message's: one dropped loses a value
    (a reference, a phone number); one added cannot be filled, and the page fails."""
    problems = []
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*(placeholders(text) for text in ids))
        for string in strings:
            if string and placeholders(string) != expected:
                problems.append(f"{ids[0]!r}: {sorted(placeholders(string))} instead of {sorted(expected)}")
    return problems


def shipped_catalogues() -> Iterable[Path]:
    return sorted((ROOT / "translations").glob("*/LC_MESSAGES/messages.po"))


def test_no_translation_drops_or_adds_a_placeholder() -> None:
    """Every catalogue shipped in translations/ (none yet) and the pseudo-translation."""
    catalogues = {"pseudo pa": pseudo_catalogue("pa")}
    for path in shipped_catalogues():
        with path.open("rb") as file:
            catalogues[str(path.relative_to(ROOT))] = read_po(file)
    assert {
        name: problems for name, catalogue in catalogues.items() if (problems := placeholder_problems(catalogue))
    } == {}


def test_the_placeholder_check_finds_one_dropped_or_added() -> None:
    catalogue = Catalog(locale="pa")
    catalogue.add("Your reference is %(reference)s.", "⟦reference⟧")
    catalogue.add("Call %(phone)s.", "⟦%(phone)s %(clinic)s⟧")
    catalogue.add(("%(number)s day", "%(number)s days"), ("⟦%(number)s⟧", "⟦days⟧"))
    catalogue.add("Step %(number)s of %(num)s", "⟦%(num)s / %(number)s⟧")  # reordered: fine
    assert placeholder_problems(catalogue) == [
        "'Your reference is %(reference)s.': [] instead of ['reference']",
        "'Call %(phone)s.': ['clinic', 'phone'] instead of ['phone']",
        "'%(number)s day': [] instead of ['number']",
    ]


# ---- How far a catalogue can be trusted (app/catalogues.py) --------------------------------------

TEMPLATE_TEXT = """\
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

#. safety-critical
msgid "Call 911 now."
msgstr ""

#. label
msgid "Not sure"
msgstr ""
"""


def write_catalogue(directory: Path, *, critical: str, other: str, fuzzy: bool = False, reviewed: bool = False) -> Path:
    """A template of two messages (one safety-critical) and a Punjabi catalogue of them, with a
    medical translator's review of that version when `reviewed`."""
    (directory / "messages.pot").write_text(TEMPLATE_TEXT, encoding="utf-8")
    folder = directory / "pa" / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    flag = "#, fuzzy\n" if fuzzy else ""
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        f'{flag}msgid "Call 911 now."\nmsgstr "{critical}"\n\nmsgid "Not sure"\nmsgstr "{other}"\n',
        encoding="utf-8",
    )
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "compile", "-f", "-d", str(directory), "-l", "pa"],
        check=True, capture_output=True,
    )  # fmt: skip
    if reviewed:
        from app import catalogues

        version = catalogues.status(directory, "pa").review.current_version
        (directory / "pa" / "review.yaml").write_text(
            f"status: reviewed\nreviewed_by: A. Singh, certified medical translator\nreviewed_on: 2027-01-15\n"
            f"version: {version}\n",
            encoding="utf-8",
        )
    return directory


def test_the_status_of_a_catalogue_counts_what_is_missing_and_fuzzy_and_reads_its_review(tmp_path: Path) -> None:
    from app import catalogues

    write_catalogue(tmp_path, critical="ਹੁਣੇ 911 ਤੇ ਫ਼ੋਨ ਕਰੋ।", other="", fuzzy=True, reviewed=True)
    found = catalogues.status(tmp_path, "pa")
    assert (found.total, found.translated, found.missing, found.fuzzy) == (2, 0, ("Not sure",), ("Call 911 now.",))
    assert found.critical_fuzzy == ("Call 911 now.",) and not found.safe
    assert found.review.reviewed and found.review.by.startswith("A. Singh")
    assert catalogues.status(tmp_path, "fa").exists is False
    # A translation changed after the review: the review no longer holds.
    po = tmp_path / "pa" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgid "Not sure"\nmsgstr ""', 'msgid "Not sure"\nmsgstr "ਪੱਕਾ ਨਹੀਂ"'), encoding="utf-8")
    changed = catalogues.status(tmp_path, "pa").review
    assert changed.out_of_date and not changed.reviewed


@pytest.mark.parametrize(
    ("critical", "fuzzy", "review", "opt_in", "refused_because"),
    [
        ("", False, True, (), "lacks 1 safety-critical translations"),
        ("ਹੁਣੇ 911 ਤੇ ਫ਼ੋਨ ਕਰੋ।", True, True, (), "lacks 1 safety-critical translations"),
        ("ਹੁਣੇ 911 ਤੇ ਫ਼ੋਨ ਕਰੋ।", False, False, (), "has not been reviewed by a medical translator"),
        ("ਹੁਣੇ 911 ਤੇ ਫ਼ੋਨ ਕਰੋ।", False, False, ("pa",), None),
        ("ਹੁਣੇ 911 ਤੇ ਫ਼ੋਨ ਕਰੋ।", False, True, (), None),
    ],
)
def test_production_refuses_a_language_it_cannot_trust(
    tmp_path: Path, critical: str, fuzzy: bool, review: bool, opt_in: tuple[str, ...], refused_because: str | None
) -> None:
    """The safety-critical messages complete and not fuzzy, and a medical translator's review or
    an explicit opt-in (UNREVIEWED_LANGUAGES); the other messages may still be missing."""
    from app import i18n

    write_catalogue(tmp_path, critical=critical, other="", fuzzy=fuzzy, reviewed=review)
    app = create_app({"TESTING": True, "BABEL_TRANSLATION_DIRECTORIES": str(tmp_path), "LANGUAGES": ("pa",)})
    app.config.update(IMS_ENV="production", UNREVIEWED_LANGUAGES=opt_in)
    if refused_because is None:
        assert [language.tag for language in i18n._work_out_offered(app)] == ["en-CA", "pa"]
    else:
        with pytest.raises(ConfigError, match=refused_because):
            i18n._work_out_offered(app)


def test_each_answer_records_the_language_it_was_given_in_and_the_resume_link_opens_in_it(pseudo_app: Flask) -> None:
    from app.extensions import db
    from app.models import Screening
    from tests.support.journey import Journey

    client = pseudo_app.test_client()
    client.get("/?lang=pa")
    journey = Journey(client)
    answers = profile("ideal_neck")
    journey.walk(answers, until="pain_location")  # the first page, answered in Punjabi
    client.get("/?lang=en-CA")
    journey.answer("pain_location", answers)  # the second, in English
    with pseudo_app.app_context():
        screening = db.session.scalars(db.select(Screening)).one()
        assert screening.answer_languages["respondent"] == "pa" and screening.answer_languages["age"] == "en-CA"
        assert screening.language == "en-CA"
        screening.language = "pa"  # as if last worked on in Punjabi
        db.session.commit()
    _, token = seed_draft(pseudo_app)  # the link, opened in a new browser
    with pseudo_app.app_context():
        db.session.scalars(db.select(Screening).order_by(Screening.id.desc())).first().language = "fa"  # type: ignore[union-attr]
        db.session.commit()
    other = pseudo_app.test_client()
    other.get(f"/resume/{token}")
    assert '<html lang="fa" dir="rtl">' in other.get("/screening/about").get_data(as_text=True)


def test_staff_read_which_language_the_patient_answered_in(pseudo_app: Flask, tmp_path: Path) -> None:
    """Answered in Punjabi, through a catalogue no medical translator has reviewed: staff are told
    both, and the interpreter language as the patient typed it."""
    from app.extensions import db
    from app.models import Screening
    from app.patient import services

    with pseudo_app.app_context():
        screening, _ = services.start_screening(7)
        screening.answers = profile("ideal_neck", interpreter_needed="yes", interpreter_language="ਪੰਜਾਬੀ")
        screening.answer_languages = {qid: "pa" for qid in screening.answers}
        services.submit_screening(screening)
        db.session.commit()
        page = pseudo_app.jinja_env.from_string("{{ screening | answered_in }}").render(screening=screening)
        assert page == "Punjabi (translation not yet reviewed)"
        assert db.session.get(Screening, screening.id).answer_languages["age"] == "pa"  # type: ignore[union-attr]


def test_no_staff_page_offers_another_language(pseudo_app: Flask) -> None:
    """Not even a staff page's error page, which is drawn by the patient pages' base template."""
    client = pseudo_app.test_client()
    for path in ("/staff/sign-in", "/staff/no-such-page", "/staff/screenings/IMS-ABCDEFGH"):
        page = client.get(path).get_data(as_text=True)
        assert "?lang=" not in page, path
    assert "?lang=pa" in client.get("/no-such-page").get_data(as_text=True)  # a patient's mistyped link
