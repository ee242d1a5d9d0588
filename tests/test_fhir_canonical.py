"""Every canonical URL the FHIR exports use resolves (issue 19, "canonical URLs that cannot be
resolved"): the Questionnaires, their code systems and IMS Screen's own extensions are named by
literal URLs under the installation's `<base>/fhir/`, and each is served there, publicly, as a
valid resource whose `url` is that URL.

The exports are walked whole (a screening's Bundle with its follow-ups, the screening's
Questionnaire, the follow-up Questionnaire), and so is every resource found through them, so a
URL added later is checked without a test naming it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import rules
from app import fhir, fhir_followup, fhir_public
from app.catalogues import Review
from app.extensions import db
from app.models import AuditEvent
from tests.support.fhir_tools import Validator
from tests.support.journey import profile
from tests.support.outcomes import Answered, seed
from tests.test_fhir import shipped_translations

pytestmark = pytest.mark.one_backend

#: URLs of standards the exports use and IMS Screen does not publish: FHIR's own definitions and
#: HL7's terminology, and UCUM.
STANDARDS = ("http://hl7.org/fhir/", "http://terminology.hl7.org/", "http://unitsofmeasure.org")
#: Words in a follow-up that only this screening's person wrote: they must not reach a public page.
SENTINEL_ACTIVITY = "Repotting the ficus 7QX"


@dataclass(frozen=True)
class Link:
    """A URL a resource names: the value of a `url`, `system` or `questionnaire`."""

    key: str
    value: str
    #: An identifier's system, which names and is not served.
    identifier: bool


def links(node: object, key: str = "", in_extension: bool = False) -> Iterator[Link]:
    """Every URL `node` names, at any depth, as a `Link`; a part of a complex extension is named
    by a plain word (`lang`), not a URL, and is left out once checked to be one."""
    if isinstance(node, list):
        for each in node:
            yield from links(each, key, in_extension)
    elif isinstance(node, dict):
        is_extension = key == "extension"
        for child_key, value in node.items():
            if child_key in ("url", "system", "questionnaire") and isinstance(value, str):
                if is_extension and in_extension:
                    assert ":" not in value, f"the part {value!r} of a complex extension is named by a URL"
                    continue
                yield Link(child_key, value, identifier=key == "identifier")
            else:
                yield from links(value, child_key, is_extension)


def strings(node: object) -> Iterator[str]:
    """Every string in `node`, at any depth."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for each in node:
            yield from strings(each)
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)


def resolve(client: FlaskClient, base: str, exported: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What every URL the `exported` resources name (and, in turn, the resources found there) is
    served as, fetched anonymously, by URL; asserting on the way that each is the installation's,
    served, and states that URL (and the version a `|version` asks for)."""
    served: dict[str, dict[str, Any]] = {}
    pending = list(exported)
    while pending:
        resource = pending.pop()
        assert not [s for s in strings(resource) if s.startswith("urn:ims-screen:")], resource.get("resourceType")
        for link in links(resource):
            if link.value.startswith(STANDARDS):
                continue
            if link.identifier:
                assert link.value.startswith(f"{base}/fhir/sid/"), link
                continue
            url, _, version = link.value.partition("|")
            assert url.startswith(f"{base}/fhir/"), link
            if url not in served:
                page = client.get(url.removeprefix(base))
                assert page.status_code == 200 and page.mimetype == "application/fhir+json", (link, page.status_code)
                found = json.loads(page.get_data(as_text=True))
                assert found["url"] == url, link
                served[url] = found
                pending.append(found)
            if version:
                assert served[url]["version"] == version, link
    return served


def seed_with_follow_ups(app: Flask) -> str:
    """A screening of the current rule set answered for someone else (a RelatedPerson, coded),
    with two answered follow-ups, one naming `SENTINEL_ACTIVITY`; its reference.

    Also sets the installation's PUBLIC_BASE_URL apart from the development default that
    `fhir.Publication()` falls back on, so that an export not built for the installation shows."""
    app.config["PUBLIC_BASE_URL"] = "https://screening.clinic.example"
    with app.app_context():
        screening = seed(
            answers=profile("proxy_teen"),
            version=rules.ruleset().ruleset_version,
            fired=("fit_a",),
            activities=(SENTINEL_ACTIVITY,),
            follow_ups=(Answered(2, pgic=2, scores={1: 4}), Answered(6, pgic=3, scores={1: 6})),
        )
        db.session.commit()
        return screening.reference


def exports(app: Flask, client: FlaskClient, physio_client: FlaskClient, reference: str) -> list[dict[str, Any]]:
    """What the installation exports: the screening's Bundle, its Questionnaire as served and as
    staff download it, the same with every shipped language and with a reviewed one (whose review
    names who and when), and the follow-up Questionnaire."""
    found = [
        json.loads(physio_client.get(path).get_data(as_text=True))
        for path in (
            f"/staff/fhir/screenings/{reference}.json",
            "/staff/fhir/questionnaire.json",
            "/staff/fhir/follow-up-questionnaire.json",
        )
    ]
    found.append(json.loads(client.get("/fhir/Questionnaire/ims-screen").get_data(as_text=True)))
    with app.app_context():
        version = rules.ruleset().ruleset_version
        where = fhir.Publication.of(app)
        found.append(fhir.questionnaire_resource(rules.questionnaire(), version, shipped_translations(), where))
        review = Review("reviewed", "A. Singh, medical translator", "2027-01-15", version="v1", current_version="v1")
        reviewed = fhir.Translation("pa", {}, review)
        found.append(fhir.questionnaire_resource(rules.questionnaire(), version, (reviewed,), where))
    return found


def test_every_url_the_exports_name_is_the_installations_and_served_there(
    app: Flask, client: FlaskClient, physio_client: FlaskClient
) -> None:
    exported = exports(app, client, physio_client, seed_with_follow_ups(app))
    base = app.config["PUBLIC_BASE_URL"]
    bundle = exported[0]
    assert len([e for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"]) == 3
    served = resolve(client, base, exported)
    kinds = {(resource["resourceType"], resource["id"]) for resource in served.values()}
    assert {resource_id for kind, resource_id in kinds if kind == "Questionnaire"} == {
        "ims-screen",
        "ims-screen-follow-up",
    }
    assert {resource_id for kind, resource_id in kinds if kind == "StructureDefinition"} == {
        "translation-review",
        "follow-up-of",
        "follow-up-week",
    }
    follow_up = served[f"{base}/fhir/Questionnaire/ims-screen-follow-up"]
    screening_questionnaire = served[f"{base}/fhir/Questionnaire/ims-screen"]
    assert follow_up["publisher"] == screening_questionnaire["publisher"] == app.config["CLINIC_NAME"]
    assert follow_up["date"] and follow_up["version"]
    # The follow-ups' responses name the follow-up Questionnaire in its version, as the served one states it.
    follow_up_links = {
        entry["resource"]["questionnaire"]
        for entry in bundle["entry"][-2:]
        if entry["resource"]["resourceType"] == "QuestionnaireResponse"
    }
    assert follow_up_links == {f"{follow_up['url']}|{follow_up['version']}"}
    identifiers = {link.value for link in links(bundle) if link.identifier}
    assert f"{base}/fhir/sid/follow-up" in identifiers
    # The registry of what is published and the exports agree: nothing named is left unpublished
    # (checked above), and nothing is published that no export names.
    with app.app_context():
        assert {resource["url"] for resource in fhir_public.published(fhir.Publication.of(app))} == set(served)


def test_every_served_definition_passes_fhir_js(
    app: Flask, client: FlaskClient, physio_client: FlaskClient, fhir_validator: Validator
) -> None:
    """The StructureDefinitions of IMS Screen's extensions, both Questionnaires and every code
    system, as served; and the Bundle that uses them. fhir.resources (R4B, whose definitions are
    R4's here) reads each too."""
    exported = exports(app, client, physio_client, seed_with_follow_ups(app))
    served = resolve(client, app.config["PUBLIC_BASE_URL"], exported)
    for resource in [*served.values(), exported[0]]:
        fhir_validator.assert_valid(resource)
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def test_everything_published_is_served_at_its_url(app: Flask, client: FlaskClient, fhir_validator: Validator) -> None:
    """Each resource of the registry (fhir_public.PUBLISHED), at the URL it states, as built."""
    with app.app_context():
        where = fhir.Publication.of(app)
        published = list(fhir_public.published(where))
    assert {r["resourceType"] for r in published} == {"Questionnaire", "CodeSystem", "StructureDefinition"}
    assert len({r["url"] for r in published}) == len(published)
    for resource in published:
        assert resource["url"] == where.canonical(resource["resourceType"], resource["id"])
        page = client.get(resource["url"].removeprefix(where.base_url))
        assert page.status_code == 200
        assert json.loads(page.get_data(as_text=True)) == resource
        fhir_validator.assert_valid(resource)


@pytest.mark.parametrize(
    "path",
    [
        "/fhir/StructureDefinition/no-such-extension",
        "/fhir/Questionnaire/no-such-questionnaire",
        "/fhir/CodeSystem/no-such-thing",
        "/fhir/Patient/ims-screen",
    ],
)
def test_an_unknown_definition_is_a_404_operation_outcome(
    client: FlaskClient, fhir_validator: Validator, path: str
) -> None:
    missing = client.get(path)
    assert missing.status_code == 404 and missing.mimetype == "application/fhir+json"
    outcome = json.loads(missing.get_data(as_text=True))
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "not-found"
    fhir_validator.assert_valid(outcome)


def test_the_definitions_are_public_and_hold_no_health_information(
    app: Flask, client: FlaskClient, physio_client: FlaskClient
) -> None:
    reference = seed_with_follow_ups(app)
    exported = exports(app, client, physio_client, reference)
    with app.app_context():
        audited = db.session.scalar(select(func.count()).select_from(AuditEvent))
    served = resolve(client, app.config["PUBLIC_BASE_URL"], exported)  # `client` never signed in
    for url in served:
        page = client.get(url.removeprefix(app.config["PUBLIC_BASE_URL"]))
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "Set-Cookie" not in page.headers, url
        assert reference not in body and SENTINEL_ACTIVITY not in body, url
    with app.app_context():  # read-only: nothing written, nothing audited
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == audited
    assert client.post("/fhir/StructureDefinition/follow-up-of").status_code in (400, 405)


def extension_elements(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {element["id"]: element for element in definition["differential"]["element"]}


def value_type(element: dict[str, Any]) -> str:
    """The FHIR type of an element's value[x] as its key says: valueCode -> code, valueReference -> Reference."""
    (key,) = [key for key in element if key.startswith("value")]
    name = key.removeprefix("value")
    return name if name in ("Reference", "Quantity", "Coding") else name[0].lower() + name[1:]


def test_each_extension_holds_what_its_structure_definition_says(
    app: Flask, client: FlaskClient, physio_client: FlaskClient
) -> None:
    """Each use of IMS Screen's extensions in the exports, against its served StructureDefinition:
    its value's type, or its parts, each of its type, the required ones present."""
    exported = exports(app, client, physio_client, seed_with_follow_ups(app))
    base = app.config["PUBLIC_BASE_URL"]
    served = resolve(client, base, exported)
    used = [
        extension
        for resource in exported
        for extension in extensions(resource)
        if extension["url"].startswith(f"{base}/fhir/StructureDefinition/")
    ]
    assert {extension["url"].rsplit("/", 1)[1] for extension in used} == {
        "translation-review",
        "follow-up-of",
        "follow-up-week",
    }
    assert any(part["url"] == "reviewedOn" for extension in used for part in extension.get("extension", []))
    for extension in used:
        elements = extension_elements(served[extension["url"]])
        assert elements["Extension.url"]["fixedUri"] == extension["url"]
        if "extension" not in extension:
            assert [t["code"] for t in elements["Extension.value[x]"]["type"]] == [value_type(extension)]
            continue
        assert elements["Extension.value[x]"]["max"] == "0"
        parts = {part["url"]: part for part in extension["extension"]}
        slices = {e["sliceName"]: e for e in elements.values() if e.get("sliceName")}
        assert set(parts) <= set(slices) and {name for name, e in slices.items() if e["min"] == 1} <= set(parts)
        for name, part in parts.items():
            element = elements[f"Extension.extension:{name}.value[x]"]
            assert [t["code"] for t in element["type"]] == [value_type(part)], name


def extensions(node: object) -> Iterator[dict[str, Any]]:
    """Every extension in `node`, at any depth (a complex extension's parts not on their own)."""
    if isinstance(node, list):
        for each in node:
            yield from extensions(each)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "extension" and isinstance(value, list):
                yield from value
            else:
                yield from extensions(value)


def test_the_follow_up_definitions_follow_the_publication() -> None:
    """Built for another installation, the follow-up Questionnaire and its code systems are that
    installation's, with its publisher and the Questionnaire's version and date."""
    clinic = fhir.Publication("https://screening.clinic.example", "Kitsilano Physiotherapy")
    questionnaire = fhir_followup.questionnaire_resource(clinic)
    assert questionnaire["url"] == "https://screening.clinic.example/fhir/Questionnaire/ims-screen-follow-up"
    assert (questionnaire["version"], questionnaire["date"], questionnaire["publisher"]) == (
        fhir_followup.VERSION,
        fhir_followup.DATE,
        "Kitsilano Physiotherapy",
    )
    systems = {o["valueCoding"]["system"] for item in questionnaire["item"] for o in item.get("answerOption", [])}
    code_systems = {c["url"]: c for c in fhir_followup.code_systems(clinic)}
    assert systems == set(code_systems) and all(
        url.startswith("https://screening.clinic.example/fhir/CodeSystem/") for url in systems
    )
    assert all(
        c["publisher"] == "Kitsilano Physiotherapy" and c["version"] == fhir_followup.VERSION
        for c in code_systems.values()
    )
