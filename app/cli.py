"""Command-line interface: `flask --app wsgi ...` for the clinical rule set (`rules`), the FHIR exports
(`fhir`), staff accounts (`create-staff`, `list-staff`), emails (`notify`), retention (`purge`) and the
encryption keys (`generate-encryption-key`, `rotate-encryption-key`). Commands that change anything
first say which database they use."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.engine import make_url

import rules
from app import (
    audit,
    catalogues,
    credentials,
    crypto_rotation,
    environment_file,
    followup,
    i18n,
    intervals,
    notifications,
    retention,
)
from app.extensions import db
from rules.replay import FollowUpReport

rules_cli = AppGroup("rules", help="Inspect and run the IMS candidacy rules.")


def database_description(app: Flask) -> str:
    """Which database this process uses (password hidden), and where its settings came from."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    source = os.environ.get(environment_file.VARIABLE) or "the environment (no settings file)"
    return f"Database: {url} ({app.config['IMS_ENV']}; settings from {source})"


def announce_database() -> None:
    """Say, before a command changes anything, which database it is about to change.

    On standard error, so that a command's own output (JSON, say) stays clean for scripts.
    """
    click.echo(database_description(current_app), err=True)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@rules_cli.command("dictionary")
def dictionary() -> None:
    """Print the data dictionary: every question with its choices, range and enable_when."""
    _echo_json(rules.questionnaire().dictionary())


@rules_cli.command("evaluate")
@click.argument("answers_file", metavar="FILE", type=click.File("r", encoding="utf-8"))
def evaluate(answers_file: IO[str]) -> None:
    """Evaluate answers (JSON: question id -> value) from FILE, or '-' for standard input.

    Prints the outcome, the fired rules with their texts, the indicators and the rule-set
    version as JSON. Exits with status 2 and names each problem when the answers are invalid.
    """
    try:
        answers = json.load(answers_file)
    except json.JSONDecodeError as error:
        _fail([f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"])
    try:
        result = rules.evaluate(answers)
    except rules.InvalidAnswers as error:
        _fail(error.problems)
    _echo_json(result.to_dict())


@rules_cli.command("check")
def check() -> None:
    """Validate the questionnaire and rule set; exit non-zero listing every problem."""
    problems = rules.check()
    if problems:
        for problem in problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(1)
    ruleset = rules.ruleset()
    click.echo(
        f"ok: {len(rules.questionnaire().questions)} questions, {len(ruleset.rules)} rules, "
        f"rule set {ruleset.ruleset_version}"
    )


@rules_cli.command("replay")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="Only screenings submitted on or after this date."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--follow-ups",
    is_flag=True,
    help="Report instead, for screenings with an answered follow-up after treatment, how the current rules "
    "would have sorted the patients who improved (much or very much better) and those who did not.",
)
@click.option(
    "--week",
    type=click.IntRange(min=1),
    help="With --follow-ups: the follow-up read, in weeks after the first appointment (default: each "
    "patient's latest answered one).",
)
def replay(since: datetime | None, as_json: bool, follow_ups: bool, week: int | None) -> None:
    """Re-evaluate stored screenings with the current rules and report which would change, and how.

    To try a proposed rule set, edit rules/data/ (in a copy of the checkout) and run this there.
    """
    from app import calibration

    if week is not None and not follow_ups:
        raise click.UsageError("--week reads a follow-up: give --follow-ups too.")
    if follow_ups:
        _replay_follow_ups(calibration.replay_follow_ups(week, since.replace(tzinfo=UTC) if since else None), as_json)
        return
    report = calibration.replay(since.replace(tzinfo=UTC) if since else None)
    if as_json:
        _echo_json(
            {
                "ruleset_version": rules.ruleset().ruleset_version,
                "replayed": report.replayed,
                "changed": [change.__dict__ for change in report.changes],
                "outcome_moves": [
                    {"from": old, "to": new, "count": n} for (old, new), n in report.outcome_moves.items()
                ],
                "by_rule": report.by_rule(),
                "not_replayable": report.not_replayable,
            }
        )
        return
    click.echo(
        f"Rule set {rules.ruleset().ruleset_version}: replayed {report.replayed} screening(s); "
        f"{len(report.changes)} would change."
    )
    for (old, new), count in sorted(report.outcome_moves.items()):
        click.echo(f"  {old} -> {new}: {count}")
    for rule_id, refs in report.by_rule().items():
        click.echo(f"  {rule_id}: would newly fire for {len(refs['added'])}, stop firing for {len(refs['removed'])}")
    for change in report.changes:
        click.echo(
            f"    {change.reference}: {change.old_outcome} -> {change.new_outcome}"
            f"{'  +' + ' +'.join(change.rules_added) if change.rules_added else ''}"
            f"{'  -' + ' -'.join(change.rules_removed) if change.rules_removed else ''}"
        )
    for reference, problems in report.not_replayable.items():
        click.echo(f"  cannot replay {reference}: {'; '.join(problems)}")


def _replay_follow_ups(report: FollowUpReport, as_json: bool) -> None:
    """Print `rules replay --follow-ups`: by stored -> proposed outcome, who improved and who did not."""
    read = f"at {report.week} weeks" if report.week else "at each patient's latest answered follow-up"
    if as_json:
        _echo_json(
            {
                "ruleset_version": rules.ruleset().ruleset_version,
                "week": report.week,
                "patients": report.patients,
                "moves": [
                    {"from": old, "to": new, "improved": improved, "not_improved": not_improved}
                    for (old, new), (improved, not_improved) in sorted(report.moves.items())
                ],
                "not_replayable": report.not_replayable,
            }
        )
        return
    click.echo(
        f"Rule set {rules.ruleset().ruleset_version}: {report.patients} patient(s) with a follow-up answered {read}; "
        "improved = much or very much better (PGIC 1-2)."
    )
    if report.patients:
        header = "stored -> proposed outcome"
        width = max(len(header), *(len(f"{old} -> {new}") for old, new in report.moves))
        click.echo(f"  {header.ljust(width)}  improved  not improved")
        for (old, new), (improved, not_improved) in sorted(report.moves.items()):
            moved = "" if old == new else "  (moves)"
            click.echo(f"  {f'{old} -> {new}'.ljust(width)}  {improved:>8}  {not_improved:>12}{moved}")
        click.echo("  Under the proposed rules:")
        for outcome, (improved, not_improved) in sorted(report.by(1).items()):
            click.echo(f"    {outcome}: {improved} of {improved + not_improved} improved")
    if report.patients < intervals.TOO_FEW:
        click.echo("  Too few patients to read: do not change the rules on these numbers alone.")
    for reference, problems in report.not_replayable.items():
        click.echo(f"  cannot replay {reference}: {'; '.join(problems)}")


def _fail(problems: list[str]) -> NoReturn:
    """Report invalid answers on stderr and exit with status 2, as README.md (Command line) specifies."""
    click.echo("invalid answers:", err=True)
    for problem in problems:
        click.echo(f"  - {problem}", err=True)
    sys.exit(2)


@click.command("purge")
@with_appcontext
@click.option("--dry-run", is_flag=True, help="Report what would be deleted, delete nothing.")
def purge(dry_run: bool) -> None:
    """Delete what is past its retention period (run it daily, e.g. from cron).

    Unfinished screenings past their expiry, and submitted screenings that never led to a booking
    once SCREENING_RETENTION_DAYS have passed. Each run that deletes anything is audited.
    """
    announce_database()
    retention_days = current_app.config["SCREENING_RETENTION_DAYS"]
    drafts = retention.purge_expired_drafts(dry_run=dry_run)
    old = retention.purge_old_screenings(retention_days, dry_run=dry_run)
    if dry_run:
        click.echo(f"dry run: {drafts} expired unfinished screening(s) would be deleted")
        click.echo(
            f"dry run: {len(old)} submitted screening(s) older than {retention_days} days, "
            "never booked, would be deleted"
        )
        return
    if drafts or old:
        audit.record(
            "purge",
            actor=None,
            email="command line",
            drafts_deleted=drafts,
            screenings_deleted=len(old),
            references=old,
            retention_days=retention_days,
        )
    db.session.commit()
    click.echo(f"deleted {drafts} expired unfinished screening(s)")
    click.echo(f"deleted {len(old)} submitted screening(s) older than {retention_days} days that were never booked")


@click.command("create-staff")
@with_appcontext
@click.option("--email", prompt="Email address", help="Sign-in address of the new account.")
@click.option("--name", prompt="Full name", help="The name shown to other staff.")
@click.option(
    "--role",
    type=click.Choice(["physio", "admin"]),
    default="physio",
    show_default=True,
    prompt="Role (physio or admin)",
    help="Admins also manage accounts, exports and the audit trail.",
)
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting (for scripts)."
)
def create_staff(email: str, name: str, role: str, password_stdin: bool) -> None:
    """Create a staff account. The password is prompted for, hidden, or read from stdin: never an argument."""
    announce_database()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt(
            "Password (at least 12 characters)", hide_input=True, confirmation_prompt="Repeat the password"
        )
    try:
        user = credentials.create_staff(email, name, role, password)
    except ValueError as problem:
        click.echo(f"error: {problem}", err=True)
        raise SystemExit(1) from None
    audit.record("create_account", actor=None, email=user.email, role=role, via="command line")
    db.session.commit()
    click.echo(f"Created {role} account for {user.email}. They sign in at /staff/sign-in.")


@click.command("list-staff")
@with_appcontext
def list_staff() -> None:
    """List the staff accounts; with none yet, say how to create the first one."""
    from sqlalchemy import select

    announce_database()
    from app.models import StaffUser

    accounts = db.session.scalars(select(StaffUser).order_by(StaffUser.email)).all()
    if not accounts:
        click.echo(
            "No staff accounts yet. Create the first admin with:\n"
            "  .venv/bin/flask --app wsgi create-staff --role admin\n"
            "then sign in at /staff/sign-in."
        )
        return
    for account in accounts:
        state = "active" if account.active else "disabled"
        two_factor = "two-factor on" if account.totp_secret else "two-factor off"
        click.echo(f"{account.email}  {account.role}  {state}  {two_factor}")


@click.command("notify")
@with_appcontext
def notify() -> None:
    """Send the emails that are due and retry failed ones (run every minute, e.g. from cron).

    First it invites to the follow-ups after treatment that fell due (app/followup.py): each
    time point of each consenting, booked screening once.
    """
    from flask import current_app as app

    announce_database()
    invited = followup.schedule_due(app.config)
    db.session.commit()
    click.echo(f"invited to {invited} follow-up(s)")
    sent, failed = notifications.deliver_due(notifications.smtp_sender(app._get_current_object()))  # type: ignore[attr-defined]
    click.echo(f"sent {sent} email(s); {failed} failed and will be retried")


@click.command("generate-encryption-key")
def generate_encryption_key() -> None:
    """Print a new key for ENCRYPTION_KEYS (put it first, keep the old ones after it, then rotate)."""
    from cryptography.fernet import Fernet

    click.echo(Fernet.generate_key().decode("ascii"))


@click.command("rotate-encryption-key")
@with_appcontext
def rotate_encryption_key() -> None:
    """Re-encrypt every stored contact detail and authenticator secret with the first key of ENCRYPTION_KEYS.

    Afterwards the older keys can be removed from ENCRYPTION_KEYS.
    """
    announce_database()
    count = crypto_rotation.rotate_all()
    audit.record("rotate_encryption_key", actor=None, email="command line", rows=count)
    db.session.commit()
    click.echo(f"re-encrypted {count} row(s) with the newest key")


fhir_cli = AppGroup("fhir", help="FHIR R4: the questionnaire, and importing a QuestionnaireResponse.")


@fhir_cli.command("questionnaire")
def fhir_questionnaire() -> None:
    """Print the questionnaire as a FHIR R4 Questionnaire (JSON)."""
    from app import fhir

    _echo_json(fhir.questionnaire_resource(rules.questionnaire(), rules.ruleset().ruleset_version))


#: The largest QuestionnaireResponse file `fhir import` reads (one response is some tens of kB).
FHIR_IMPORT_MAX_BYTES = 5_000_000


@fhir_cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--assume-current-version",
    is_flag=True,
    help="You confirm the response answers this installation's current questionnaire: one that "
    "states no version (its questionnaire is the URL without |version, as Medplum's) is read as "
    "the current version, audited as confirmed by you. One that states another version is still refused.",
)
def fhir_import_command(file: IO[bytes], assume_current_version: bool) -> None:
    """File FILE, a FHIR R4 QuestionnaireResponse from another tool (or a Bundle holding one), as a
    screening judged by the rules, marked imported (audited). A response that is not sound is
    refused, every problem named, and nothing is stored. FILE may be - for standard input."""
    from app import fhir_import

    announce_database()
    raw = file.read(FHIR_IMPORT_MAX_BYTES + 1)
    try:
        if len(raw) > FHIR_IMPORT_MAX_BYTES:
            raise fhir_import.InvalidResponse([f"The file is larger than {FHIR_IMPORT_MAX_BYTES:,} bytes."])
        screening = fhir_import.import_response(raw, via="command line", assume_current_version=assume_current_version)
    except fhir_import.InvalidResponse as refusal:
        db.session.rollback()
        for problem in refusal.problems:
            click.echo(f"- {problem}", err=True)
        raise click.ClickException("Nothing was imported.") from None
    db.session.commit()
    outcome = rules.Outcome(screening.outcome).staff_label if screening.outcome else "none"
    click.echo(f"Imported as {screening.reference}, judged by the rules: {outcome}.")
    if screening.imported_authored:
        click.echo(f"Answered {screening.imported_authored} (the file's authored date).")
    else:
        click.echo("The file gives no date for when the person answered: it is filed as answered now.")
    click.echo(
        "IMS Screen did not show this result to the person, and has no contact details for them: for an emergency "
        "or see-a-doctor result, contact them now through the tool or record the response came from."
    )


translations_cli = AppGroup("translations", help="The patient's languages and their catalogues.")


@translations_cli.command("status")
def translations_status() -> None:
    """Per language: messages translated, missing and fuzzy, the safety-critical ones among them,
    the review the catalogue records, and whether this installation offers it."""
    directory = Path(current_app.config["BABEL_TRANSLATION_DIRECTORIES"])
    offered = {language.tag for language in i18n.offered(current_app)}
    for language in i18n.LANGUAGES[1:]:
        found = catalogues.status(directory, language.locale)
        review = found.review
        if review.reviewed:
            reviewed = f"reviewed by {review.by} on {review.on}"
        elif review.out_of_date:
            reviewed = f"REVIEW OUT OF DATE (reviewed version {review.version}; changed since)"
        else:
            reviewed = "NOT REVIEWED"
        click.echo(
            f"{language.english_name} ({language.tag}): "
            + (
                f"{found.translated}/{found.total} translated, {len(found.missing)} missing, "
                f"{len(found.fuzzy)} fuzzy; safety-critical: {len(found.critical_missing)} missing, "
                f"{len(found.critical_fuzzy)} fuzzy; {reviewed}; version {review.current_version}; "
                if found.exists
                else "no catalogue; "
            )
            + ("offered here" if language.tag in offered else "not offered here")
        )
        for message in (*found.critical_missing, *found.critical_fuzzy)[:10]:
            click.echo(f"    safety-critical, to translate: {message[:90]}")


def init_app(app: Flask) -> None:
    """Register the command groups on the app."""
    app.cli.add_command(rules_cli)
    app.cli.add_command(translations_cli)
    app.cli.add_command(fhir_cli)
    app.cli.add_command(purge)
    app.cli.add_command(create_staff)
    app.cli.add_command(list_staff)
    app.cli.add_command(generate_encryption_key)
    app.cli.add_command(notify)
    app.cli.add_command(rotate_encryption_key)
