"""The public, patient-facing side: information, consent, the questionnaire, the result, and
the request to be contacted about an assessment.

`views` holds the pages (one blueprint, `patient`), `forms` the WTForms forms built from the
questionnaire in `rules/`, `services` the journey's use-cases (start, save a page, submit),
`booking` the assessment request, `reveal` the stylesheet that shows follow-up questions
without JavaScript, and `followup` the follow-up after treatment (its pages and stop links, on the
same blueprint). It mirrors `app.staff`, the portal; both use the shared infrastructure at
`app/` (configuration, models, encryption, audit, notifications).
"""

from __future__ import annotations

from flask import Flask

from app.patient import followup, views


def init_app(app: Flask) -> None:
    """Register the patient pages (`followup` adds its own to the blueprint when imported)."""
    assert followup.bp is views.bp
    app.register_blueprint(views.bp)
