"""Independent FHIR tools, installed from the npm registry into tests/node/node_modules by
`.ci/run` (`npm ci --prefix tests/node`, pinned by tests/node/package-lock.json; never committed):
Lantana's FHIR.js validator, run by node (`Validator`); NLM's LHC-Forms renderer, whose files
the browser test serves itself (`LFORMS`); and Medplum's React QuestionnaireForm, on a page that
esbuild bundles from the installed packages (`medplum_page`). Without node or the packages the
tests that need them skip, except on CI (`CI` set), where they fail.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.tools import missing, require

NODE_TOOLS = Path(__file__).resolve().parents[1] / "node"
MODULES = NODE_TOOLS / "node_modules"
#: The built LHC-Forms web component and its FHIR support (dist/lforms of the npm package).
LFORMS = MODULES / "lforms" / "dist" / "lforms"
#: The page showing Medplum's QuestionnaireForm (React), and where esbuild bundles it (git-ignored).
MEDPLUM_PAGE = NODE_TOOLS / "medplum-page.jsx"
BUILD = NODE_TOOLS / "build"
ESBUILD = MODULES / ".bin" / "esbuild"
#: What the tests use of tests/node/package.json, installed.
INSTALLED = (MODULES / "fhir", LFORMS, MODULES / "@medplum" / "react", ESBUILD)


def node_tools_or_skip(needed_for: str) -> str:
    """The node binary, once the packages of tests/node are installed; else skip (fail on CI)."""
    node = require("node", "nodejs npm", needed_for)
    if not all(path.exists() for path in INSTALLED):
        missing(f"{MODULES} (npm ci --prefix tests/node)", "nodejs npm, then `npm ci --prefix tests/node`", needed_for)
    return node


def medplum_page() -> tuple[Path, Path]:
    """The script and style sheet of tests/node/medplum-page.jsx, bundled by esbuild (under a
    second) when missing or older than the page or the installed packages."""
    node_tools_or_skip("render the Questionnaire in Medplum's QuestionnaireForm")
    script, styles = BUILD / "medplum-page.js", BUILD / "medplum-page.css"
    sources = (MEDPLUM_PAGE, NODE_TOOLS / "package-lock.json", MODULES / ".package-lock.json")
    newest = max(source.stat().st_mtime for source in sources if source.exists())
    if not script.is_file() or not styles.is_file() or script.stat().st_mtime < newest:
        # jsqr, an optional peer of @medplum/react that its QR-code scanner loads on demand, is
        # not installed: the form never asks for it.
        arguments = ["--bundle", "--minify", "--jsx=automatic", "--external:jsqr", "--legal-comments=none"]
        arguments += ['--define:process.env.NODE_ENV="production"', f"--outdir={BUILD}", "--log-level=warning"]
        built = subprocess.run(
            [str(ESBUILD), str(MEDPLUM_PAGE), *arguments], capture_output=True, text=True, timeout=120
        )
        assert built.returncode == 0 and not built.stderr, f"esbuild: {built.stderr}"
    return script, styles


#: Warnings FHIR.js gives that are not findings: a code outside a value set that R4 binds only as an
#: example or a preference, where IMS Screen's own code system says it exactly (`meta.tag`, whose
#: Common Tags are an example binding; RelatedPerson.relationship, a preferred binding, which
#: names the relationship as the person answering chose it).
NOT_FINDINGS = (
    re.compile(r"^(nested: )?(Questionnaire|QuestionnaireResponse)\.meta\.tag\[\d+\]$"),
    re.compile(r"^RelatedPerson\.relationship\[\d+\]$"),
)


class Validator:
    """FHIR.js in one node process (tests/node/validate.js), validating resource after resource."""

    def __init__(self, node: str) -> None:
        self.process = subprocess.Popen(
            [node, str(NODE_TOOLS / "validate.js")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        #: How many resources it has validated, for the tests' own accounting.
        self.count = 0

    def messages(self, resource: dict[str, Any]) -> list[dict[str, str]]:
        """What FHIR.js says about `resource`: errors and warnings, less `NOT_FINDINGS`."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(resource, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the FHIR.js validator stopped"
        self.count += 1
        found: list[dict[str, str]] = json.loads(line)["messages"]
        return [
            message
            for message in found
            if message.get("severity") == "error"
            or (
                message.get("severity") == "warning"
                and not (
                    "not found in value set" in message.get("message", "")
                    and any(pattern.match(message.get("location", "")) for pattern in NOT_FINDINGS)
                )
            )
        ]

    def assert_valid(self, resource: dict[str, Any]) -> None:
        """No error and no warning from FHIR.js."""
        found = self.messages(resource)
        assert not found, f"{resource.get('resourceType')}: {found[:5]}"

    def close(self) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


@pytest.fixture(scope="session")
def fhir_validator() -> Iterator[Validator]:
    """FHIR.js, started once per test process."""
    validator = Validator(node_tools_or_skip("validate the FHIR exports with FHIR.js"))
    try:
        yield validator
    finally:
        validator.close()
