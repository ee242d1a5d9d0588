"""Real-browser test helpers: the real server in a subprocess, Debian's Chromium, the patient journey.

Used by test_browser_patient.py, test_browser_staff.py and test_accessibility.py, which import
the fixtures from here. Chromium is the system one (/usr/bin/chromium): `playwright install`
is never needed. Without it these tests skip, except on CI (`CI` set), where they fail.

Screenshots go to a temporary folder, or to docs/screenshots/ with IMS_SCREENSHOTS=1
(`make screenshots`).
"""

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from cryptography.fernet import Fernet

import rules
from tests.conftest import STAFF_PASSWORD, SQLiteDatabases, app_on, free_port
from tests.support.journey import checklist_ticks, profile, seed_draft
from tests.support.live_server import wait_until_healthy
from tests.support.pseudo_locale import write_pseudo_catalogue
from tests.support.tools import require

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}
ADMIN_EMAIL = "admin@clinic.example"
#: `flask --app wsgi ...` arguments that create the admin the browser tests sign in as (password on stdin).
CREATE_ADMIN = ("create-staff", "--email", ADMIN_EMAIL, "--name", "Dana Admin", "--role", "admin", "--password-stdin")
#: The clinic's online booking page, for the server that offers "Book online".
BOOKING_URL = "https://booking.example/ims-clinic"

#: Answers that lead the `ideal_neck` profile to each outcome, and the result page's headline.
OUTCOMES: dict[str, dict[str, object]] = {
    "emergency": {"rf_saddle_numbness": "yes"},
    "see_doctor": {"rf_weight_loss": "yes"},
    "not_suitable": {"willing_to_try": "no"},
    "clinician_review": {"metal_allergy": "yes"},
    "likely": {},
    "possible": {"pain_duration_weeks": 8},
    "unlikely": {"pain_duration_weeks": 3},
}


def chromium_or_skip() -> None:
    require(str(CHROMIUM), "chromium", "run the browser tests")


class Server:
    """The real app (`flask run`) on a free port, on its own migrated SQLite database (a copy of
    the session's migrated template: `flask db upgrade` itself is run by test_environment_file
    and by the production suite's `make serve`).

    `settings` are environment variables on top of the test defaults (e.g. BOOKING_URL).
    """

    def __init__(self, directory: Path, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(directory),
            "LANG": "C.UTF-8",
            "IMS_ENV_FILE": "",
            "DATABASE_URL": database_url,
            "NOTIFY_IN_BACKGROUND": "false",
            "ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "STAFF_MFA_REQUIRED": "true",
            # Every browser test posts from 127.0.0.1 to this one server, hundreds of posts a run.
            "PATIENT_POST_LIMIT": "20000 per 10 minutes",
            "PUBLIC_BASE_URL": self.base,
            **settings,
        }
        self.flask = str(Path(sys.executable).with_name("flask"))
        self.log = directory / "server.log"

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [self.flask, "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def start(self, *, admin: bool) -> None:
        """Start serving; with `admin`, first create the admin account the staff tests sign in as."""
        if admin:
            self.cli(*CREATE_ADMIN, stdin=STAFF_PASSWORD + "\n")
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [self.flask, "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until_healthy(self.base, self.process, timeout=20):
            self.stop()
            raise RuntimeError("the server did not start:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def running_server(
    tmp_path_factory: pytest.TempPathFactory, databases: SQLiteDatabases, *, admin: bool = False, **settings: str
) -> Iterator[Server]:
    """The body of a session fixture: a started Server, stopped when the session ends."""
    chromium_or_skip()
    database_url = databases.create(migrated=True)
    running = Server(tmp_path_factory.mktemp("browser-server"), database_url, **settings)
    running.start(admin=admin)
    try:
        yield running
    finally:
        running.stop()
        databases.drop(database_url)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_databases: SQLiteDatabases) -> Iterator[Server]:
    """The server most browser tests use, with an admin account (ADMIN_EMAIL) to sign in as."""
    yield from running_server(tmp_path_factory, sqlite_databases, admin=True)


@pytest.fixture(scope="session")
def booking_server(tmp_path_factory: pytest.TempPathFactory, sqlite_databases: SQLiteDatabases) -> Iterator[Server]:
    """A second server, configured with the clinic's online booking page (result pages say "Book online").

    Its own process, because the setting is read once, when the app starts.
    """
    yield from running_server(tmp_path_factory, sqlite_databases, BOOKING_URL=BOOKING_URL)


@pytest.fixture(scope="session")
def pseudo_server(tmp_path_factory: pytest.TempPathFactory, sqlite_databases: SQLiteDatabases) -> Iterator[Server]:
    """A server whose Punjabi is the pseudo-translation (every string bracketed and 40% longer),
    to see that a longer language still fits the pages."""
    catalogues = write_pseudo_catalogue(tmp_path_factory.mktemp("pseudo-translations"), "pa")
    yield from running_server(
        tmp_path_factory, sqlite_databases, TRANSLATIONS_DIRECTORY=str(catalogues), LANGUAGES="pa"
    )


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class PagePool:
    """Pages a finished test leaves open, kept for the next test that asks for the same context
    options (the viewport aside, which is set on the page).

    Opening a page costs Chromium a renderer process: 0.33 s of CPU against 0.04 s for loading a
    page into an open one (measured here), and the browser tests open over a hundred. A page is
    handed on as a new one would be: its context's cookies cleared, on about:blank, at the viewport
    asked for. Pages whose options cannot be compared (a `storage_state`, a signed-in staff
    member's cookies) or that a test closed are never handed on.
    """

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.idle: dict[tuple[tuple[str, Any], ...], list[Any]] = {}

    @staticmethod
    def key(options: dict[str, Any]) -> tuple[tuple[str, Any], ...] | None:
        """The options as a key, or None when some are not plain values (never pooled)."""
        if any(not isinstance(value, str | bool | int | float | None) for value in options.values()):
            return None
        return tuple(sorted(options.items()))

    def take(self, viewport: dict[str, int], timeout_ms: int, options: dict[str, Any]) -> Any:
        """A page with no cookies and no document, from the pool or newly opened."""
        key = self.key(options)
        if key is not None and self.idle.get(key):
            page = self.idle[key].pop()
            page.set_viewport_size(viewport)
        else:
            page = self.browser.new_context(viewport=viewport, **options).new_page()
        page.context.set_default_timeout(timeout_ms)
        return page

    def give_back(self, page: Any, options: dict[str, Any]) -> None:
        """Keep `page` for the next test, emptied; or close its context when it cannot be reused."""
        if page.is_closed():  # the test closed it, or its context
            return
        key = self.key(options)
        if key is None:
            page.context.close()
            return
        page.context.clear_cookies()
        page.goto("about:blank")
        self.idle.setdefault(key, []).append(page)


@pytest.fixture(scope="session")
def page_pool(chromium: Any) -> PagePool:
    return PagePool(chromium)


@pytest.fixture
def new_page(page_pool: PagePool, server: Server) -> Iterator[Callable[..., Any]]:
    """Open a page with its own cookies: new_page(viewport=PHONE, **context options).

    Pages open on `server` unless the options give another `base_url`.
    """
    yield from pages(page_pool, base_url=server.base)


def pages(pool: PagePool, timeout_ms: int = 10_000, **defaults: Any) -> Iterator[Callable[..., Any]]:
    """The body of a page fixture: make(viewport, **context options) gives a page whose context
    has `defaults` under the options and no cookies (`PagePool`); each is given back afterwards."""
    taken: list[tuple[Any, dict[str, Any]]] = []

    def make(viewport: dict[str, int] = PHONE, **options: Any) -> Any:
        everything = {**defaults, **options}
        page = pool.take(viewport, timeout_ms, everything)
        taken.append((page, everything))
        return page

    yield make
    for page, options in taken:
        pool.give_back(page, options)


@pytest.fixture(scope="session")
def screenshot(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], None]:
    """screenshot(page, name): a viewport-sized PNG, into docs/screenshots/ with IMS_SCREENSHOTS=1."""
    folder = ROOT / "docs" / "screenshots" if os.environ.get("IMS_SCREENSHOTS") else tmp_path_factory.mktemp("shots")

    def take(page: Any, name: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), animations="disabled")
        assert path.stat().st_size < 300_000, f"{path.name} is {path.stat().st_size} bytes"

    return take


# ---- The patient journey ----------------------------------------------------------------------


def answers_for(outcome: str) -> dict[str, object]:
    answers = {
        key: ("yes" if value is True else "no" if value is False else value)
        for key, value in profile("ideal_neck").items()
    }
    answers.update(OUTCOMES[outcome])
    return answers


def change_anchor(question_id: str) -> str:
    """What "Check your answers" links to for changing a question: itself, or its checklist."""
    questionnaire = rules.questionnaire()
    section = questionnaire.section(questionnaire.questions[question_id].section_id)
    checklist = section.checklist_of(question_id) if section is not None else None
    return checklist.id if checklist is not None else question_id


def section_of(page: Any) -> str:
    return page.url.split("?")[0].rstrip("/").rsplit("/", 1)[-1]


FILL = """answers => {
  for (const el of document.querySelectorAll("form.question-page input, form.question-page select")) {
    const question = el.name.replace(/__unit$/, "");
    if (!(question in answers) || el.type === "hidden" || !el.checkVisibility()) continue;
    const value = answers[question];
    const chosen = Array.isArray(value) ? value.includes(el.value) : String(value) === el.value;
    if (el.type === "checkbox") {
      el.checked = chosen;  // exactly these: a box ticked before ("None of these") is unticked
    } else if (el.type === "radio") {
      if (chosen) el.checked = true;
    } else if (el.name.endsWith("__unit")) {
      el.value = "weeks";
    } else {
      el.value = String(value);
    }
  }
}"""


#: The question page's controls, in document order.
QUESTION_CONTROLS = "form.question-page input, form.question-page select"

#: What `fill_step` with `mouse` needs to know of each control, read in one call (visible as
#: Playwright means it: a box of some size, and not hidden).
CONTROL_STATES = """selector => [...document.querySelectorAll(selector)].map(el => {
  const box = el.getBoundingClientRect();
  const visible = box.width > 0 && box.height > 0 && el.checkVisibility({visibilityProperty: true});
  return {name: el.name, type: el.type, value: el.value, checked: el.checked, visible};
})"""


def fill_step(page: Any, answers: dict[str, object], *, mouse: bool = False) -> None:
    """Answer the visible questions of the current step (follow-ups appear as earlier answers call for them).

    By default in one script call, for speed; with `mouse`, through Playwright's clicks and typing:
    each control whose state differs from the answers is changed as a person would (a click,
    typing, a choice from a list), in document order, the page's state read again after each
    change so that a follow-up it reveals is answered too.
    Questions asked in a checklist are answered by ticking its checkboxes (`checklist_ticks`).
    Checkboxes end up ticked exactly as the answers say, so a page answered before can be changed
    (ticking a warning sign unticks "None of these").
    """
    section = rules.questionnaire().section(section_of(page))
    if section is not None:
        answers = {**answers, **checklist_ticks(section, answers)}
    if not mouse:
        page.evaluate(FILL, answers)
        return
    for _ in range(200):
        change = next_change(page.evaluate(CONTROL_STATES, QUESTION_CONTROLS), answers)
        if change is None:
            return
        index, action, value = change
        control = page.locator(QUESTION_CONTROLS).nth(index)
        if action == "check":
            control.set_checked(bool(value))
        elif action == "select":
            control.select_option(str(value))
        else:
            control.fill(str(value))
    raise AssertionError(f"{section_of(page)}: the answers were never all given")


def next_change(controls: list[dict[str, Any]], answers: dict[str, object]) -> tuple[int, str, object] | None:
    """The first visible control, in document order, that the answers want otherwise: its index,
    and whether to check (True or False), select or fill it with which value."""
    for index, control in enumerate(controls):
        name, kind = control["name"], control["type"]
        if not name or kind == "hidden" or not control["visible"]:
            continue
        question = name.removesuffix("__unit")
        if question not in answers:
            continue
        value = answers[question]
        if kind in ("radio", "checkbox"):
            option = control["value"]
            chosen = (option in value) if isinstance(value, list) else (str(value) == option)
            if (kind == "checkbox" and control["checked"] != chosen) or (chosen and not control["checked"]):
                return index, "check", chosen
        elif name.endswith("__unit"):
            if control["value"] != "weeks":
                return index, "select", "weeks"
        elif control["value"] != str(value):
            return index, "fill", str(value)
    return None


def click_and_wait(page: Any, locator: Any) -> None:
    """Click something that submits or follows a link, and wait for the next page to load."""
    with page.expect_navigation():
        locator.click()


def start(page: Any) -> None:
    page.goto("/")
    page.get_by_role("link", name="Start the screening").click()
    page.check("#consent")
    click_and_wait(page, page.get_by_role("button", name="Agree and start"))


def open_answered_draft(page: Any, server: Server, outcome: str) -> None:
    """Store a draft answered for `outcome` straight into `server`'s database and open it through
    its resume link, on the check page: for tests of the result pages. The journey itself, page by
    page, is walked for every outcome by test_browser_patient.test_every_outcome_on_a_phone."""
    with app_on(server.env["DATABASE_URL"]) as app:
        _, token = seed_draft(app, answers=answers_for(outcome))
    page.goto(f"{server.base}/resume/{token}")
    assert page.url.endswith("/screening/check"), page.url


def walk_steps(
    page: Any,
    answers: dict[str, object],
    on_step: Callable[[Any, str], None] | None = None,
    *,
    mouse: bool = False,
    on_reassurance: Callable[[Any], None] | None = None,
) -> None:
    """From the current step to "Check your answers", or to the result when an answer is an
    emergency (sent at once); `on_step(page, section)` may answer itself, and `on_reassurance(page)`
    sees the needle reassurance page before the walk goes on."""
    for _ in range(30):
        if page.url.endswith(("/screening/check", "/screening/result")):
            return
        if page.url.endswith("/needles-and-you"):
            if on_reassurance is not None:
                on_reassurance(page)
            click_and_wait(page, page.locator("main a.button").first)
            continue
        section = section_of(page)
        if on_step is not None:
            on_step(page, section)
        if section_of(page) == section and "/screening/" in page.url:
            fill_step(page, answers, mouse=mouse)
            click_and_wait(page, page.locator("button[value=continue]"))
            summary = page.locator(".error-summary")
            assert summary.count() == 0, f"{section}: {summary.inner_text()}"
    raise AssertionError(f"the journey did not reach the check page (stuck at {page.url})")


def submit(page: Any) -> None:
    """Send the answers from the check page (an emergency, sent as it was answered, is on its result already)."""
    if not page.url.endswith("/screening/result"):
        click_and_wait(page, page.get_by_role("button", name="Send answers and see the result"))
    assert page.url.endswith("/screening/result"), page.url


def send_request(page: Any) -> None:
    """Fill in the assessment request form (in any language: by field ids) and send it."""
    page.fill("#name", "Pat Example")
    page.fill("#email", "pat@example.com")
    page.check("#preferred_location-0")
    page.check("#preferred_times-0")
    page.check("#contact_consent")
    click_and_wait(page, page.locator("main form button[type=submit]"))
    assert page.url.endswith("/screening/request-sent"), page.url


def journey(page: Any, outcome: str, on_step: Callable[[Any, str], None] | None = None, *, mouse: bool = False) -> None:
    """Consent, every step, check, submit: ends on the result page."""
    start(page)
    walk_steps(page, answers_for(outcome), on_step, mouse=mouse)
    submit(page)


# ---- Keyboard -----------------------------------------------------------------------------------

FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return false;
  const styles = [getComputedStyle(el)];
  if (el.id) {
    const label = document.querySelector(`label[for="${el.id}"]`);
    if (label) styles.push(getComputedStyle(label), getComputedStyle(label, '::before'), getComputedStyle(label, '::after'));
  }
  return styles.some(s => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
                          || (s.boxShadow && s.boxShadow !== 'none'));
}"""


def active(page: Any, attribute: str) -> str | None:
    value: str | None = page.evaluate(
        f"() => document.activeElement && document.activeElement.getAttribute({attribute!r})"
    )
    return value


def tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus, and check the focus shows."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_VISIBLE), f"focus on {selector} is not visible"
            return
    raise AssertionError(f"Tab never reached {selector}")


def key_check(page: Any, selector: str) -> None:
    """Tab to a checkbox and tick it with Space."""
    tab_to(page, selector)
    page.keyboard.press("Space")
    assert page.locator(selector).is_checked(), selector


def key_radio(page: Any, name: str, value: str) -> None:
    """Tab into a radio group, then move with the arrow keys to `value` (which selects it)."""
    tab_to(page, f"input[type=radio][name={name}]")
    page.keyboard.press("Space")
    for _ in range(20):
        if active(page, "value") == value:
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate(FOCUS_VISIBLE)
    assert page.locator(f"input[name={name}][value={value}]").is_checked()


def key_submit(page: Any, selector: str = "button[value=continue]") -> None:
    """Tab to a submit button and press Enter."""
    tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


# ---- Staff ---------------------------------------------------------------------------------------


def sign_in(page: Any, secret: str | None = None) -> str:
    """Sign the admin in; with no secret yet, set up two-factor and return the new secret."""
    page.goto("/staff/sign-in")
    page.fill("#email", ADMIN_EMAIL)
    page.fill("#password", STAFF_PASSWORD)
    click_and_wait(page, page.locator("main button[type=submit]"))
    if secret is None:
        secret = page.locator("code.secret").inner_text().strip()
    page.fill("#code", pyotp.TOTP(secret).now())
    # Waited for: whether the recovery codes follow can only be read on the page the code leads to.
    click_and_wait(page, page.locator("main button[type=submit]"))
    if page.get_by_text("I have saved them").count():
        click_and_wait(page, page.get_by_text("I have saved them"))
    return secret


def change_status_and_add_note(page: Any, status: str, note: str) -> None:
    """On a staff screening page: move it to `status`, then add `note`; check both took."""
    page.select_option("#status", status)
    click_and_wait(page, page.get_by_role("button", name="Change status"))
    assert text_of(page, ".notice") == f"Status changed to {status.replace('_', ' ')}."
    assert_on_screen(page, ".notice")
    page.fill("#body", note)
    click_and_wait(page, page.get_by_role("button", name="Add note"))
    assert text_of(page, ".notice") == "Note added."
    assert_on_screen(page, ".notice")
    assert note in page.locator("main").inner_text()


def assert_on_screen(page: Any, selector: str) -> None:
    """The first `selector` is within the part of the page the browser shows, without scrolling."""
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= height, (selector, box, height)


def text_of(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.locator(selector).first.inner_text()).strip()


@pytest.fixture(scope="session")
def staff_session(chromium: Any, server: Server) -> dict[str, Any]:
    """Sign the admin in once, setting up two-factor (required): its TOTP secret and browser state."""
    context = chromium.new_context(viewport=DESKTOP, base_url=server.base)
    page = context.new_page()
    secret = sign_in(page)
    assert page.url.rstrip("/").endswith("/staff"), page.url
    state = context.storage_state()
    context.close()
    return {"secret": secret, "state": state}


# ---- Accessibility -----------------------------------------------------------------------------

WCAG_TAGS = {"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

PAGE_PROBLEMS = """() => {
  const problems = [];
  const h1s = document.querySelectorAll('h1').length;
  if (h1s !== 1) problems.push(`${h1s} <h1> elements`);
  const visible = el => el.checkVisibility() && el.getBoundingClientRect().width > 0;
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!visible(el)) continue;
    const labels = [...(el.labels || [])].filter(visible);
    if (!labels.length) problems.push(`no visible label: ${el.outerHTML.slice(0, 80)}`);
  }
  return problems;
}"""

#: WCAG 2.5.8 (targets of 24x24 CSS px), in two parts. axe-core's own rule, off by default, checks
#: every link and control with the criterion's exceptions: a link inside a sentence, and a small
#: target with a 24 px circle of its own that meets no other target. Stricter, this project's rule:
#: the form controls and buttons of the page's main part are 24x24 themselves, spacing or not.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}

SMALL_TARGETS = """() => [...document.querySelectorAll('main input[type=checkbox], main input[type=radio], main button, main .button')]
  .filter(el => el.checkVisibility())
  .map(el => [el, el.getBoundingClientRect()])
  .filter(([el, box]) => box.width < 24 || box.height < 24)
  .map(([el, box]) => `${el.outerHTML.slice(0, 60)} is ${Math.round(box.width)}x${Math.round(box.height)}`)"""


#: axe-core's run, answering only what `Audit` reads: each rule that passed, and for each violation
#: its tags and first five places. axe's whole report (every node of every rule) took longer to send
#: and read than the run itself.
AXE_RUN = """async options => {
  const results = await axe.run(document, options);
  return {
    passes: results.passes.map(rule => rule.id),
    violations: results.violations.map(rule => ({
      id: rule.id, impact: rule.impact, tags: rule.tags, targets: rule.nodes.slice(0, 5).map(node => node.target)
    })),
  };
}"""


class Audit:
    """Collects accessibility problems page by page, so one run reports all of them."""

    def __init__(self) -> None:
        from axe_playwright_python.sync_playwright import Axe

        #: axe-core itself, as axe-playwright-python ships it.
        self.axe_script: str = Axe().axe_script
        self.problems: list[str] = []
        self.titles: list[str] = []
        self.other: list[str] = []  # best-practice findings outside WCAG A/AA: reported, not failed
        self.passed: set[str] = set()  # the axe rules that applied to some page and found nothing wrong

    def __call__(self, page: Any, name: str, *, error: bool = False) -> None:
        page.evaluate(self.axe_script)
        results = page.evaluate(AXE_RUN, AXE_OPTIONS)
        self.passed.update(results["passes"])
        self.other += [f"{name}: {v['id']}" for v in results["violations"] if not WCAG_TAGS & set(v["tags"])]
        for violation in results["violations"]:
            if WCAG_TAGS & set(violation["tags"]):
                where = [" ".join(map(str, target)) for target in violation["targets"]]
                self.problems.append(f"{name}: axe {violation['id']} ({violation['impact']}) at {where}")
        self.problems += [f"{name}: {problem}" for problem in page.evaluate(PAGE_PROBLEMS)]
        self.problems += [f"{name}: small target {problem}" for problem in page.evaluate(SMALL_TARGETS)]
        title = page.title()
        self.titles.append(title)
        if error:
            if not title.startswith("Error:"):
                self.problems.append(f"{name}: title {title!r} does not start with 'Error:'")
            try:
                page.wait_for_function(
                    "() => document.activeElement && document.activeElement.id === 'error-summary'", timeout=2000
                )
            except Exception:
                focused = page.evaluate("() => document.activeElement && document.activeElement.outerHTML.slice(0, 80)")
                self.problems.append(f"{name}: the error summary is not focused ({focused})")
        elif title.startswith("Error:"):
            self.problems.append(f"{name}: title {title!r} starts with 'Error:' with no error")

    def check(self) -> None:
        print(f"{len(self.titles)} pages audited: {self.titles}\nbest-practice findings: {self.other}")
        assert not self.problems, "\n".join(self.problems)
