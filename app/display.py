"""How stored values read to people: answers in words (in the patient's language on patient
pages), dates in the clinic's time zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_date, get_locale, gettext, lazy_pgettext, ngettext, npgettext
from flask_babel import lazy_gettext as _l

import rules
from app import i18n
from app.clock import utcnow
from app.i18n import ENGLISH, number_text, translate
from app.models import PREFERRED_TIMES, Notification, Screening
from rules.engine import MISSING_FACTS
from rules.outcomes import Outcome
from rules.questionnaire import NUMERIC_TYPES, Category, Checklist, Question, QuestionType, SafetyNet

#: The clinics are in British Columbia; people read dates in their local time.
CLINIC_TIME_ZONE = ZoneInfo("America/Vancouver")


#: The name of each unit of time a duration may be given in (`rules.questionnaire.WEEKS_PER_UNIT`)
#: or a number measured in (`Question.unit`), as the person reads it beside a number box.
UNIT_NAMES = {"days": _l("days"), "weeks": _l("weeks"), "months": _l("months"), "years": _l("years")}
#: The unit beside a whole-number answer: of the questionnaire's, only an age's (years of age,
#: which some languages name apart from years of time: Chinese 岁, not 年).
NUMBER_UNIT_NAMES = {"years": lazy_pgettext("how old", "years")}


def answer_text(value: object, question: Question) -> str:
    """An answer as the person would say it, in the page's language: choice labels, "6 out of
    10", "2 years". Staff pages are English (app/i18n.py), so staff read it in English."""
    if question.type is QuestionType.SINGLE:
        return translate(question.labels.get(str(value), str(value)))
    if question.type is QuestionType.MULTIPLE and isinstance(value, list):
        return "; ".join(translate(question.labels.get(str(v), str(v))) for v in value)
    if question.type is QuestionType.SCALE:
        return scale_text(value, question.maximum)
    if question.type is QuestionType.DURATION and isinstance(value, Mapping):
        return amount_text(value["amount"], value["unit"])
    if question.type is QuestionType.DURATION and isinstance(value, int):
        return duration_text(value)
    if question.type is QuestionType.INTEGER and isinstance(value, int) and question.unit == "years":
        # An age, which some languages count in other words than a length of time (Chinese 岁, not 年).
        return npgettext("how old", "%(number)s year", "%(number)s years", value, number=number_text(value))
    if question.type is QuestionType.INTEGER and isinstance(value, int) and question.unit:
        return amount_text(value, question.unit)
    return str(value)


def scale_text(value: object, maximum: object) -> str:
    """A point on a scale from 0, "6 out of 10": the screening's answers and the follow-up's."""
    return gettext("%(value)s out of %(maximum)s", value=_number(value), maximum=_number(maximum))


def _number(value: object) -> str:
    return number_text(value) if isinstance(value, int) else str(value)


def checklist_chosen(checklist: Checklist, answers: Mapping[str, object], for_someone_else: bool = False) -> list[str]:
    """What a checklist's answers say, item by item: the label of each item ticked, and of each
    marked not sure with "(not sure)"; empty when every item answered is "no" ("None of these")."""
    chosen = []
    for item in checklist.items:
        answer = answers.get(item.id)
        label = translate(item.checklist_wording(for_someone_else))
        if answer == "yes":
            chosen.append(label)
        elif item.is_unsure(answer):
            chosen.append(gettext("%(answer)s (not sure)", answer=label))
    return chosen


def amount_text(amount: int, unit: str) -> str:
    """An amount of a unit of time in words, in the page's language, e.g. "3 days", "1 month"."""
    number = number_text(amount)
    if unit == "days":
        return ngettext("%(number)s day", "%(number)s days", amount, number=number)
    if unit == "weeks":
        return ngettext("%(number)s week", "%(number)s weeks", amount, number=number)
    if unit == "months":
        return ngettext("%(number)s month", "%(number)s months", amount, number=number)
    if unit == "years":
        return ngettext("%(number)s year", "%(number)s years", amount, number=number)
    return f"{number} {unit}"


def duration_text(weeks: int) -> str:
    """A duration stored in whole weeks (as every one was before days could be given) in words,
    e.g. "9 weeks (about 2 months)", "2 years"."""
    if weeks >= 52 and weeks % 52 == 0:
        return amount_text(weeks // 52, "years")
    if weeks >= 9:
        about = amount_text(round(weeks * 12 / 52), "months")
        return gettext("%(weeks)s (about %(months)s)", weeks=amount_text(weeks, "weeks"), months=about)
    return amount_text(weeks, "weeks")


def minutes_text(minutes: int) -> str:
    """A number of minutes in words, in whole hours when it is some: "2 hours", "90 minutes"."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(number)s hour", "%(number)s hours", hours, number=number_text(hours))
    return ngettext("%(number)s minute", "%(number)s minutes", minutes, number=number_text(minutes))


def local_midnight(day: date) -> datetime:
    """The start of a day in the clinic's time zone, as people mean "from 3 March"."""
    return datetime.combine(day, time.min, tzinfo=CLINIC_TIME_ZONE)


def local_date(moment: datetime) -> str:
    """A date as people in the clinic read it, e.g. "3 December 2026"; on a patient page in
    another language, as that language writes a date in full (Babel's long format)."""
    local = moment.astimezone(CLINIC_TIME_ZONE)
    locale = get_locale()  # the page's language, or the one a text is written in (`i18n.in_english`)
    if locale is not None and str(locale) != ENGLISH.locale:
        return format_date(local, "long", rebase=False)
    return f"{local.day} {local:%B %Y}"


def local_day(moment: date) -> str:
    """A day (a moment's, in the clinic's zone) as `local_datetime` writes it without the time: "3 Dec 2026"."""
    day = moment.astimezone(CLINIC_TIME_ZONE).date() if isinstance(moment, datetime) else moment
    return f"{day.day} {day:%b %Y}"


def local_datetime(moment: datetime) -> str:
    """A date and time in the clinic's zone, e.g. "3 Dec 2026, 14:05"."""
    local = moment.astimezone(CLINIC_TIME_ZONE)
    return f"{local.day} {local:%b %Y, %H:%M}"


def screening_summary(screening: Screening, with_flags: bool = True) -> str:
    """One line for the queue: main pain area, how long, and the key flags (the fired rules'
    titles, which give the outcome away: left out while the outcome is hidden, `with_flags`)."""
    answers = screening.answers
    parts = [
        answer_text(answers[question.id], question)
        for question in rules.questionnaire().summary_questions
        if _summarised(answers.get(question.id), question)
    ]
    unasked = not_asked(screening)
    flags = [
        reason["title"]
        for reason in screening.reasons or []
        if with_flags and _is_flag(reason["outcome"]) and not _only_about_unasked(reason["rule_id"], screening, unasked)
    ]
    unsure = (screening.indicators or {}).get("unsure_answers") or []
    if unsure:
        flags.append(f"{len(unsure)} not sure")
    if flags:
        parts.append("flags: " + "; ".join(flags))
    if unasked and with_flags:  # while the outcome is hidden, an early stop would give it away
        at = "a warning sign" if Outcome(screening.outcome or "").medical else "a reason not to needle"
        parts.append(f"stopped at {at}: later questions {'not needed' if screening.imported_at else 'not asked'}")
    if screening.assessment_request is not None:
        parts.append("asked to be contacted")
    elif screening.imported_at is not None:  # the person never used IMS Screen: none to reach them by here
        parts.append("no contact details here: find the person through the record it came from")
    return ", ".join(parts)


def not_asked(screening: Screening) -> set[str]:
    """The required questions a screening decided early never asked: those left unanswered on the
    pages after the last page with an answer. The patient pages stop there once the answers decide
    an outcome that overrides candidacy (emergency, see a doctor, not suitable), and a response
    from another tool, stopped as they are, is imported only when its answers decide. A question
    left unanswered on a page that was shown is not among them: it was asked, and skipped.
    Empty for any other screening."""
    missing = (screening.indicators or {}).get("missing_answers") or []
    if not missing or screening.outcome is None or not Outcome(screening.outcome).overrides_candidacy:
        return set()
    sections = rules.questionnaire().sections
    answered = [
        index for index, section in enumerate(sections) if any(q.id in screening.answers for q in section.questions)
    ]
    later = {q.id for section in sections[max(answered, default=-1) + 1 :] for q in section.questions}
    return set(missing) & later


#: The category of question (None: any other) each built-in "missing" fact watches.
_MISSING_FACT_CATEGORIES: dict[str, Category | None] = {name: category for category, name in MISSING_FACTS.items()}


def _only_about_unasked(rule_id: str, screening: Screening, unasked: set[str]) -> bool:
    """Whether a fired rule says only that questions went unanswered which were never asked
    (`not_asked`): it reads nothing but the "missing" facts, and no question of their categories
    was left unanswered on a page that was shown. A rule no longer in the rule set is kept."""
    if not unasked:
        return False
    rule = next((rule for rule in rules.ruleset().rules if rule.id == rule_id), None)
    read = set(rule.when.names()) if rule is not None else set()
    if not read or not read <= _MISSING_FACT_CATEGORIES.keys():
        return False
    categories = {_MISSING_FACT_CATEGORIES[name] for name in read}
    questions = rules.questionnaire().questions
    skipped = set((screening.indicators or {}).get("missing_answers") or []) - unasked
    # A question no longer asked has no category to tell by: counted as skipped, so the rule is kept.
    return not any(qid not in questions or questions[qid].category in categories for qid in skipped)


def _summarised(value: object, question: Question) -> bool:
    """Whether an answer goes in the queue's summary: any answer, but a number only as a number."""
    if question.type is QuestionType.DURATION:
        return isinstance(value, (int, Mapping))
    if question.type in NUMERIC_TYPES:
        return isinstance(value, int)
    return value is not None


def _is_flag(outcome: str) -> bool:
    """Whether a fired rule is worth naming in the queue's summary: a safety finding, not a candidacy."""
    return not Outcome(outcome).is_candidacy


def preferred_time_label(value: str) -> str:
    """A preferred time of an assessment request in words."""
    return PREFERRED_TIMES.get(value, value)


def notification_state(notification: Notification) -> str:
    """How far an email got, in words. In development without a mail server (no SMTP_HOST) an
    email is only written to the console of the process that sent it: it reached nobody, so it is
    never called sent. That process (often `flask notify`, from cron) records how it went; for an
    email sent before it did (`delivered_by` None), this web server's own settings are the guess."""
    if notification.state == "sent":
        to_console = (
            notification.delivered_by == "console"
            if notification.delivered_by is not None
            else not current_app.config["SMTP_HOST"]
        )
        if to_console:
            return "not sent: written to the server's console only (development, no mail server set up)"
        return f"sent {local_datetime(notification.sent_at)}" if notification.sent_at else "sent"
    if notification.state == "cancelled":
        return "not sent: the person stopped the follow-ups before it went out"
    if notification.state == "failed":
        return f"failed after {notification.attempts} attempts ({notification.last_error or 'no reason given'})"
    if notification.last_error:
        return (
            f"waiting to be sent again: attempt {notification.attempts} failed ({notification.last_error}); "
            f"next try {local_datetime(notification.next_attempt_at)}"
        )
    return "waiting to be sent"


def safety_net() -> SafetyNet | None:
    """The warning signs every result page lists, with what to do (the questionnaire's `safety_net`)."""
    return rules.questionnaire().safety_net


def answered_in(screening: Screening) -> str | None:
    """For staff, the languages other than English the patient answered in, e.g. "Punjabi
    (translation not yet reviewed)"; None when every answer was given in English."""
    tags = [tag for tag in dict.fromkeys((screening.answer_languages or {}).values()) if tag != i18n.ENGLISH.tag]
    return ", ".join(language_name(tag) for tag in tags) or None


def language_name(tag: str) -> str:
    """A language's name in English, for staff and for a doctor, with "(translation not yet
    reviewed)" when no medical translator has reviewed its catalogue (app/catalogues.py)."""
    language = i18n.BY_TAG.get(tag)
    name = language.english_name if language else tag
    return f"{name} (translation not yet reviewed)" if i18n.unreviewed(current_app, tag) else name


def init_app(app: Flask) -> None:
    """Register the template filters."""
    app.add_template_filter(answer_text)
    app.add_template_filter(scale_text)
    app.add_template_filter(checklist_chosen)
    app.add_template_filter(local_date)
    app.add_template_filter(minutes_text)
    app.add_template_filter(local_datetime)
    app.add_template_filter(local_day)
    app.add_template_filter(screening_summary)
    app.add_template_filter(not_asked)
    app.add_template_filter(preferred_time_label)
    app.add_template_filter(notification_state)
    app.add_template_global(utcnow, "now")
    app.add_template_global(Outcome, "Outcome")
    app.add_template_global(safety_net)
    app.add_template_filter(answered_in)
    app.add_template_filter(language_name)
    app.jinja_env.globals["unit_names"] = UNIT_NAMES
    app.jinja_env.globals["number_unit_names"] = NUMBER_UNIT_NAMES
