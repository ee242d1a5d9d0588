"""Text that has broken web code before, for the fuzz tests: one catalogue for the forms posted to
the questionnaire (test_patient_fuzz) and the query strings of every page (test_security_fuzz)."""

from __future__ import annotations

from hypothesis import strategies as st

SCRIPT = "<script>alert(1)</script>"

#: Strings that have broken web code, each for a reason of its own.
HOSTILE_STRINGS = (
    # Empty, blank, NUL bytes (which PostgreSQL refuses in text), huge.
    "",
    " ",
    "\x00",
    "a\x00b",
    "x" * 5_000,
    "x" * 10_000,
    "9" * 5_000,
    "1" * 400,
    # Markup, template and format syntax, SQL, links and header injection.
    SCRIPT,
    '"><svg onload=alert(1)>',
    "{{ 7*7 }}",
    "%s%s%n",
    "'; DROP TABLE screening; --",
    "' OR 1=1 --",
    "javascript:alert(1)",
    "//evil.example",
    "https://evil.example/",
    "\r\nSet-Cookie: x=1",
    # Numbers at and past the questions' limits, and what int() or float() takes differently.
    "-1",
    "0",
    "10",
    "11",
    "120",
    "121",
    "5200",
    "12.5",
    "1e9",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999",
    "4_5",
    # Digits of other scripts, which isdigit() accepts: superscript, Arabic-Indic, full-width.
    "²",
    "٣",
    "٤٥",
    "４５",
    # Invisible and edge code points.
    "\ufeff45",
    "\u202e",
    "\ud7ff\ue000\U0010ffff",
    # Impossible and extreme dates.
    "9999-99-99",
    "2026-02-30",
    "0000-01-01",
    # Units and buttons of the questionnaire's forms, and one unit that does not exist.
    "weeks",
    "months",
    "years",
    "fortnights",
    "check",
    "save",
    "continue",
)

#: Any short text, one of HOSTILE_STRINGS, or a whole number of up to 31 digits, as text.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(HOSTILE_STRINGS),
    st.integers(-(10**30), 10**30).map(str),
)
