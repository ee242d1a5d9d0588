"""WTForms forms built from the questionnaire in `rules/`: one form class per page.

Field names are question ids, so the forms, the rules and the data dictionary cannot disagree.
Validation follows the questionnaire too: a required question that applies must be answered;
a question that does not apply (its `enable_when` is false, given the answers so far and this
page's own answers) is ignored and its answer discarded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.utils import unset_value
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

import rules
from app import measures
from app.display import UNIT_NAMES, amount_text
from app.i18n import number_text, translate
from rules.questionnaire import (
    CHECKLIST_NONE,
    UNSURE,
    WEEKS_PER_UNIT,
    Checklist,
    Question,
    QuestionType,
    Section,
    duration,
)

#: A duration is entered as a number and a unit (days, weeks, months or years), and stored as
#: given (`rules.questionnaire.duration`); the unit is posted as the question id plus this.
UNIT_SUFFIX = "__unit"
#: The message for a unit that is not one of ours (a tampered post; a browser cannot send one).
CHOOSE_UNIT = _l("Choose days, weeks, months or years")

#: Form fields a page may post besides its questions.
CONTROL_FIELDS = {"csrf_token", "action", "return_to"}

#: A checklist's items marked "not sure" are posted under its name with this suffix.
NOT_SURE_SUFFIX = "__unsure"

#: A checklist with nothing ticked.
CHECKLIST_MISSING = _l("Select the ones that apply, or “None of these”")


#: The message for a field posted more than once (no browser does that with these forms).
REPEATED = _l("Give one answer only")

#: More digits than any answer has (the largest is a duration of a few thousand weeks). Longer
#: numbers are out of range whatever they are, and int() refuses beyond 4,300 digits anyway.
MAX_DIGITS = 9


def _one_value(field: Field, valuelist: list[Any], message: str = REPEATED) -> None:  # message: lazy
    """Refuse a field posted twice, e.g. ``pain_side=left&pain_side=right``: no answer at all,
    which WTForms would silently read as the first value. What was posted is kept to show."""
    if len(valuelist) > 1:
        field.data = None
        field.raw_data = valuelist
        raise ValueError(str(message))


class WholeNumberField(IntegerField):
    """An integer field whose parse error speaks plainly and keeps what was typed.

    Any script's decimal digits are read (Python's `str.isdecimal` and `int`): Gurmukhi "੪੫",
    Persian "۴۵" and Arabic-Indic "٤٥" are all 45, as a phone's keyboard in those languages types them.
    """

    def __init__(self, *args: Any, out_of_range: str = _l("Enter a smaller number"), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.out_of_range = out_of_range

    def process_formdata(self, valuelist: list[Any]) -> None:
        _one_value(self, valuelist)
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        # Digits with an optional sign only: int() would also read "4_5" as 45. A very long
        # number gets the question's range, not "use digits": it is digits.
        digits = text.removeprefix("-").removeprefix("+")
        problem = (
            gettext("Enter a whole number using digits, like %(example)s", example=number_text(12))
            if not digits.isdecimal()
            else self.out_of_range
            if len(digits) > MAX_DIGITS
            else None
        )
        if problem is not None:
            self.data = None
            self.raw_data = valuelist
            raise ValueError(str(problem))
        self.data = int(text)


class SingleChoiceField(RadioField):
    """Radios: one answer, never two posted at once."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        _one_value(self, valuelist, _l("Select one answer only"))
        super().process_formdata(valuelist)

    def chosen_values(self) -> frozenset[str]:
        """The choice shown selected, as text (templates/_forms.html writes the inputs itself)."""
        return frozenset() if self.data is None else frozenset({str(self.data)})


class TextAnswerField(StringField):
    """A short text answer, posted once."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        _one_value(self, valuelist)
        super().process_formdata(valuelist)


class UnitField(SelectField):
    """The unit of a duration (days, weeks, months or years), posted once."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        _one_value(self, valuelist, CHOOSE_UNIT)
        super().process_formdata(valuelist)


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes: one for each choice."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def chosen_values(self) -> frozenset[str]:
        """The choices shown ticked, as text (templates/_forms.html writes the inputs itself)."""
        return frozenset(str(value) for value in self.data or ())


class ChecklistField(Field):
    """A checklist (see `rules.questionnaire.Checklist`): a checkbox per item, "None of these" and
    "I'm not sure about one of these", whose items marked not sure are posted as `<name>__unsure`.

    The one place where ticks become answers and answers become ticks. Its `data` is the items'
    answers: "yes" for a ticked item, "unsure" for one marked not sure, "no" for every other
    (None until the checklist is answered, or when what was posted cannot be read). `ticked` and
    `not_sure` hold what the checkboxes show, posted or from the stored answers.
    """

    def __init__(self, label: str, validators: list[Any], *, checklist: Checklist, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.checklist = checklist
        self.ticked: list[str] = []
        self.not_sure: list[str] = []
        self._posted_not_sure: list[str] = []
        #: Which list a reading error is about: "ticked", or the "not sure" list under it.
        self.error_in = "ticked"

    @property
    def error_anchor(self) -> str:
        """The id of the checkbox the error summary links to."""
        return f"{self.id}{NOT_SURE_SUFFIX}-0" if self.error_in == "not_sure" else f"{self.id}-0"

    def process(self, formdata: Any, data: Any = unset_value, extra_filters: Any = None) -> None:
        # Two inputs make this one field: the "not sure" list is read with the ticks.
        self._posted_not_sure = list(formdata.getlist(self.name + NOT_SURE_SUFFIX)) if formdata is not None else []
        super().process(formdata, data, extra_filters)

    def process_data(self, value: Any) -> None:
        """Stored answers -> ticks. `value` maps each item that applies to its answer (None when
        unanswered): "None of these" is ticked only when every one of them is "no"."""
        answered = {item: answer for item, answer in (value or {}).items() if answer is not None}
        items = self.checklist.item_ids
        self.not_sure = [item for item in items if answered.get(item) == UNSURE]
        self.ticked = [item for item in items if answered.get(item) == "yes"]
        if self.not_sure:
            self.ticked.append(UNSURE)
        if answered and len(answered) == len(value) and set(answered.values()) == {"no"}:
            self.ticked = [CHECKLIST_NONE]
        self.data = answered or None

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Posted ticks -> answers, or a ValueError saying why they cannot be read."""
        self.ticked, self.not_sure, self.data = list(valuelist), self._posted_not_sure, None
        if not valuelist:
            return
        items = self.checklist.item_ids
        not_sure = self.not_sure if UNSURE in valuelist else []  # ignored unless "not sure" is ticked
        if not _distinct_among(valuelist, (*items, CHECKLIST_NONE, UNSURE)):
            raise ValueError(gettext("Select from the answers shown"))
        if CHECKLIST_NONE in valuelist and len(valuelist) > 1:
            raise ValueError(gettext("“None of these” cannot be selected together with other answers"))
        if UNSURE in valuelist:
            self.error_in = "not_sure"
            if not not_sure:
                raise ValueError(gettext("Select the ones you are not sure about"))
            if not _distinct_among(not_sure, items):
                raise ValueError(gettext("Select from the answers shown"))
            self.error_in = "ticked"
        both = next((item for item in self.checklist.items if item.id in valuelist and item.id in not_sure), None)
        if both is not None:
            raise ValueError(
                gettext(
                    "“%(answer)s” is selected and also marked not sure: select one or the other",
                    answer=translate(both.checklist_wording()),
                )
            )
        self.data = {item: "yes" if item in valuelist else UNSURE if item in not_sure else "no" for item in items}


def _distinct_among(values: list[Any], allowed: tuple[str, ...]) -> bool:
    return len(set(values)) == len(values) and all(value in allowed for value in values)


class ChecklistAnswer:
    """The validator of a checklist: it applies when any item does, and must then be answered."""

    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist

    def __call__(self, form: QuestionPage, field: Field) -> None:
        if not any(item in form.applicable_ids for item in self.checklist.item_ids):
            field.errors.clear()
            raise StopValidation()
        if field.errors:  # what was posted could not be read; its message is there already
            raise StopValidation()
        if field.data is None:
            raise StopValidation(str(CHECKLIST_MISSING))


class Answer:
    """The one validator of every question field: applicability, presence, then the question's own checks."""

    def __init__(self, question: Question) -> None:
        self.question = question

    def __call__(self, form: QuestionPage, field: Field) -> None:
        question = self.question
        if question.id not in form.applicable_ids:
            field.errors.clear()  # an answer to a question that does not apply is ignored
            raise StopValidation()
        unit = form[question.id + UNIT_SUFFIX].data if question.type is QuestionType.DURATION else None
        if question.type is QuestionType.DURATION and unit not in WEEKS_PER_UNIT:
            raise StopValidation(str(CHOOSE_UNIT))  # a tampered unit, never guessed
        value = form.answer_of(question)
        if value is None:
            if field.errors:  # an unparseable number already has its message
                raise StopValidation()
            if question.required:
                raise StopValidation(_missing_message(question))
            raise StopValidation()
        problem = question.problem_with(value)
        if problem is not None:
            raise StopValidation(_problem_message(question, value))
        if question.within is not None and _outside(question, value, form.updated_answers):
            raise StopValidation(str(OUTSIDE_WITHIN))


#: The message for a main area that is none of the areas ticked above it (`Question.within`).
OUTSIDE_WITHIN = _l("Choose an area you ticked above, or tick this one above too")


def _outside(question: Question, value: object, answers: Mapping[str, object]) -> bool:
    """Whether the answer names none of the choices of the (valid) answer it must be within."""
    within = rules.questionnaire().questions[question.within or ""]
    earlier = answers.get(within.id)
    return earlier is not None and within.problem_with(earlier) is None and question.outside(value, earlier)


def _missing_message(question: Question) -> str:
    """What to do about an unanswered question, in the page's language (a request's gettext)."""
    if question.type is QuestionType.MULTIPLE:
        none = next((c.label for c in question.choices if c.exclusive and c.value == "none"), None)
        if none:
            return gettext("Select at least one, or “%(none)s”", none=translate(none))
        return gettext("Select at least one")
    if question.type is QuestionType.DURATION:
        return gettext("Enter how long, like %(example)s", example=_duration_example())
    if question.type is QuestionType.INTEGER:
        return _number_range(question, with_unit=False)
    if question.type is QuestionType.TEXT:
        return gettext("Enter an answer")
    return gettext("Select an answer")


def _duration_example() -> str:
    return gettext("%(days)s or %(years)s", days=amount_text(3, "days"), years=amount_text(2, "years"))


def _number_range(question: Question, *, with_unit: bool) -> str:
    """ "Enter a number from 16 to 120", with the question's unit when `with_unit` ("... years")."""
    values = {"minimum": number_text(question.minimum or 0), "maximum": number_text(question.maximum or 0)}
    if with_unit and question.unit in UNIT_NAMES:
        return gettext(
            "Enter a number from %(minimum)s to %(maximum)s %(unit)s", unit=UNIT_NAMES[question.unit], **values
        )
    return gettext("Enter a number from %(minimum)s to %(maximum)s", **values)


def _problem_message(question: Question, value: object) -> str:
    """What is wrong with an answer the question cannot take, in the page's language."""
    if question.type in (QuestionType.INTEGER, QuestionType.DURATION, QuestionType.SCALE):
        if question.type is QuestionType.DURATION:
            assert question.maximum is not None  # every duration has a range (rules.questionnaire)
            if isinstance(value, Mapping) and isinstance(value.get("amount"), int) and value["amount"] < 1:
                return gettext("Enter a length of time of at least %(shortest)s", shortest=amount_text(1, "days"))
            return gettext(
                "Enter a length of time up to %(longest)s", longest=amount_text(question.maximum // 52, "years")
            )
        return _number_range(question, with_unit=question.type is QuestionType.INTEGER)
    if question.type is QuestionType.TEXT:
        return gettext("Use %(limit)s characters or fewer", limit=number_text(question.max_length or 0))
    if question.type is QuestionType.MULTIPLE and isinstance(value, list):
        exclusive = [c.label for c in question.choices if c.exclusive and c.value in value]
        if exclusive and len(value) > 1:
            return gettext(
                "“%(answer)s” cannot be selected together with other answers", answer=translate(exclusive[0])
            )
    return gettext("Select one of the answers shown")


class QuestionPage(FlaskForm):
    """Base of the generated page forms; `section` and `questions` are set on each subclass."""

    section: Section
    questions: tuple[Question, ...]
    #: The questions that apply given the stored answers and this page's own answers.
    applicable_ids: frozenset[str] = frozenset()
    #: The stored answers with this page's posted ones in place, less what no longer applies:
    #: what the draft holds once the page is saved, if every answer on it is valid.
    updated_answers: dict[str, object]

    def field_of(self, question: Question) -> Field:
        """The field that asks `question`: its own, or its checklist's."""
        checklist = self.section.checklist_of(question.id)
        return self[checklist.id if checklist is not None else question.id]

    def answer_of(self, question: Question) -> object | None:
        """The posted answer to `question`, in the questionnaire's terms (None when empty)."""
        field = self.field_of(question)
        if isinstance(field, ChecklistField):
            return field.data.get(question.id) if field.data else None
        if question.type is QuestionType.DURATION:
            amount, unit = field.data, self[question.id + UNIT_SUFFIX].data
            if amount is None or unit not in WEEKS_PER_UNIT:
                return None
            return duration(amount, unit)
        if question.type is QuestionType.MULTIPLE:
            return list(field.data) if field.data else None
        if question.type is QuestionType.TEXT:
            return field.data.strip() if field.data and field.data.strip() else None
        return field.data if field.data not in (None, "") else None

    def posted_answers(self) -> dict[str, object]:
        """Every non-empty answer on the page, whether or not its question applies."""
        answers = {q.id: self.answer_of(q) for q in self.questions}
        return {qid: value for qid, value in answers.items() if value is not None}

    def decide_applicability(self, stored: Mapping[str, object]) -> None:
        """Merge this page's answers into the stored ones (the one merge of a request), and work
        out from the result which of the page's questions apply."""
        questionnaire = rules.questionnaire()
        self.updated_answers = questionnaire.with_page(stored, self.section, self.posted_answers())
        # Pruning changes nothing here: only answers to questions that apply switch others on.
        self.applicable_ids = frozenset(q.id for q in questionnaire.applicable(self.updated_answers))

    def answers_to_save(self, stored: Mapping[str, object], *, complete: bool) -> dict[str, object]:
        """The draft's answers after this post: the updated answers when the page validated;
        otherwise ("Save and come back later" on a half-filled page) its answers without
        problems, an answer with a problem keeping its stored value rather than being lost."""
        if complete:
            return self.updated_answers
        kept: dict[str, object] = {}
        for question in self.questions:
            field = self.field_of(question)
            errors = field.errors
            if not errors and question.id in self.updated_answers:
                kept[question.id] = self.updated_answers[question.id]
            elif errors and isinstance(field, ChecklistField) and question.id in field.ticked:
                kept[question.id] = "yes"  # ticked, whatever else is wrong with the list: acted on at once
            elif errors and question.id in stored:
                kept[question.id] = stored[question.id]
        return rules.questionnaire().with_page(stored, self.section, kept)


def _field_for_question(question: Question) -> Field:
    validators = [Answer(question)]
    # SelectChoice, not (value, label) tuples, which WTForms 3.3 deprecates.
    choices = [SelectChoice(choice.value, choice.label) for choice in question.choices]
    if question.type is QuestionType.SINGLE:
        return SingleChoiceField(question.text, choices=choices, validators=validators, validate_choice=False)
    if question.type is QuestionType.MULTIPLE:
        return MultiCheckboxField(question.text, choices=choices, validators=validators, validate_choice=False)
    if question.type is QuestionType.SCALE:
        assert question.minimum is not None and question.maximum is not None
        scale = [SelectChoice(n, str(n)) for n in range(question.minimum, question.maximum + 1)]
        return SingleChoiceField(
            question.text, choices=scale, coerce=_int_or_none, validators=validators, validate_choice=False
        )
    if question.type is QuestionType.TEXT:
        return TextAnswerField(question.text, validators=validators)
    # Lazy: the form class is built once (`page_form_class`), its message read in each request's language.
    out_of_range = LazyString(_problem_message, question, None)
    return WholeNumberField(question.text, validators=validators, out_of_range=out_of_range)


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


@cache
def page_form_class(section_id: str) -> type[QuestionPage]:
    """The form class for one page of the questionnaire (built once per page)."""
    section = rules.questionnaire().section(section_id)
    if section is None:
        raise KeyError(section_id)
    attributes: dict[str, Any] = {"section": section, "questions": section.questions}
    for checklist in section.checklists:
        attributes[checklist.id] = ChecklistField(checklist.text, [ChecklistAnswer(checklist)], checklist=checklist)
    for question in section.questions:
        if section.checklist_of(question.id) is not None:
            continue  # asked by its checklist
        attributes[question.id] = _field_for_question(question)
        if question.type is QuestionType.DURATION:
            attributes[question.id + UNIT_SUFFIX] = UnitField(
                "Unit",
                choices=[SelectChoice(unit, UNIT_NAMES[unit]) for unit in WEEKS_PER_UNIT],
                default="weeks",
                validate_choice=False,
            )
    return type(f"{section.id.title().replace('_', '')}Page", (QuestionPage,), attributes)


def stored_to_form_data(section: Section, answers: Mapping[str, object]) -> dict[str, object]:
    """The stored answers of a page as form data: a duration as it was given ("3 days"), or one
    stored in weeks before units were kept as weeks, or years when whole (104 weeks as 2 years); a
    checklist gets the answers of its items that apply (None for those unanswered)."""
    data: dict[str, object] = {}
    if section.checklists:
        applicable = {question.id for question in rules.questionnaire().applicable(answers)}
        for checklist in section.checklists:
            data[checklist.id] = {item: answers.get(item) for item in checklist.item_ids if item in applicable}
    for question in section.questions:
        if section.checklist_of(question.id) is not None:
            continue
        value = answers.get(question.id)
        if value is None:
            continue
        if question.type is QuestionType.DURATION and isinstance(value, Mapping):
            data[question.id], data[question.id + UNIT_SUFFIX] = value["amount"], value["unit"]
        elif question.type is QuestionType.DURATION and isinstance(value, int):
            amount, unit = (value // 52, "years") if value >= 52 and value % 52 == 0 else (value, "weeks")
            data[question.id], data[question.id + UNIT_SUFFIX] = amount, unit
        else:
            data[question.id] = value
    return data


def unexpected_fields(form: QuestionPage, posted: Mapping[str, object]) -> set[str]:
    """Posted names that are neither this page's fields nor its controls: a tampered request."""
    not_sure_lists = {checklist.id + NOT_SURE_SUFFIX for checklist in form.section.checklists}
    return set(posted) - set(form._fields) - CONTROL_FIELDS - not_sure_lists


#: Loose on purpose: a typo-level check, with the confirmation email as the real proof.
#: RFC 5322 specials and control characters are refused too: in a To header they would turn
#: "a:b@example.com" or "x<@example.com" into a different recipient from the one typed.
_EMAIL_EXCLUDED = r'@\s"(),:;<>\[\]\\\x00-\x1f\x7f'
EMAIL_PATTERN = re.compile(rf"^[^{_EMAIL_EXCLUDED}]+@[^{_EMAIL_EXCLUDED}]+\.[^{_EMAIL_EXCLUDED}.]{{2,}}$")
PHONE_ALLOWED = re.compile(r"^\+?[0-9 ().-]+$")


def _fewer_characters(limit: int) -> LazyString:
    """The message for a text longer than `limit`, in the language of the request that reads it."""
    return LazyString(lambda: gettext("Use %(limit)s characters or fewer", limit=number_text(limit)))


#: An activity for the follow-ups: optional, and as short as a phrase.
ACTIVITY_VALIDATORS = [
    Optional(),
    Length(max=measures.PSFS_ACTIVITY_MAX_LENGTH, message=_fewer_characters(measures.PSFS_ACTIVITY_MAX_LENGTH)),
]
#: An activity is a health detail, which a browser should not offer again (as the questionnaire's answers).
ACTIVITY_ATTRIBUTES = {"autocomplete": "off"}


class AssessmentRequestForm(FlaskForm):
    """Asking the clinic to get in touch about an assessment."""

    # Each contact field says what it holds (WCAG 2.2 1.3.5, Identify Input Purpose): a browser can
    # fill it in, and a phone shows the keyboard for it. The checks stay the server's (the page is
    # `novalidate`): a tel or email input only changes the keyboard and the autofill.
    # DataRequired, not InputRequired: a name of spaces only is no name.
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter your full name")), Length(max=120, message=_fewer_characters(120))],
        render_kw={"autocomplete": "name", "spellcheck": "false"},
    )
    # Phone before email, as on the page, so that the error summary lists problems in page order.
    phone = TelField(
        _l("Phone number"),
        validators=[Optional(), Length(max=30, message=_fewer_characters(30))],
        render_kw={"autocomplete": "tel"},
    )
    email = EmailField(
        _l("Email address"),
        validators=[Optional(), Length(max=254, message=_fewer_characters(254))],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )
    preferred_location = SingleChoiceField(
        _l("Which location would suit you?"),
        validate_choice=True,
        validators=[InputRequired(_l("Choose a location, or “Either location”"))],
    )
    preferred_times = MultiCheckboxField(
        _l("When are you usually free?"),
        validate_choice=True,
        validators=[InputRequired(_l("Choose at least one time, or “Any time”"))],
    )
    message = TextAreaField(
        _l("Anything else we should know? (optional)"),
        validators=[Optional(), Length(max=1000, message=_fewer_characters(1000))],
    )
    contact_consent = BooleanField(_l("I agree that the clinic can contact me by phone or email about an assessment"))
    #: Separate and optional, never needed to book (issue 18): the follow-up after treatment.
    follow_up_consent = BooleanField(_l("Yes, email me a few short questions after my first appointment"))
    #: The Patient-Specific Functional Scale's activities (app/measures.py), asked with the consent.
    activity_1 = StringField(_l("First activity"), validators=ACTIVITY_VALIDATORS, render_kw=ACTIVITY_ATTRIBUTES)
    activity_2 = StringField(_l("Second activity"), validators=ACTIVITY_VALIDATORS, render_kw=ACTIVITY_ATTRIBUTES)
    activity_3 = StringField(_l("Third activity"), validators=ACTIVITY_VALIDATORS, render_kw=ACTIVITY_ATTRIBUTES)

    def activities(self) -> list[str]:
        """The activities typed, in order, blanks left out; none without the follow-up consent."""
        if not self.follow_up_consent.data:
            return []
        typed = (field.data for field in (self.activity_1, self.activity_2, self.activity_3))
        return [" ".join(text.split()) for text in typed if text and text.strip()]

    def validate_email(self, field: Field) -> None:
        if field.data and not EMAIL_PATTERN.match(field.data.strip()):
            raise ValidationError(gettext("Enter an email address in the correct format, like name@example.com"))

    def validate_phone(self, field: Field) -> None:
        if not field.data:
            return
        digits = [ch for ch in field.data if ch.isdigit()]
        if not PHONE_ALLOWED.match(field.data.strip()) or not 10 <= len(digits) <= 15:
            raise ValidationError(gettext("Enter a phone number with its area code, like 604 555 0123"))

    def validate_contact_consent(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(gettext("Tick the box so that the clinic can contact you"))

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.email.data or "").strip() and not (self.phone.data or "").strip():
            self.email.errors = [*self.email.errors, gettext("Enter an email address or a phone number, or both")]
            valid = False
        elif self.follow_up_consent.data and not (self.email.data or "").strip():
            self.email.errors = [
                *self.email.errors,
                gettext("Enter an email address to get the questions after your appointment, or untick that box"),
            ]
            valid = False
        return valid
