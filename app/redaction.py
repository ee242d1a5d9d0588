"""Resume tokens kept out of every log line: access logs, error logs and logged exceptions.

A patient's resume link, /resume/<token>, opens their health answers to whoever holds it, so a
log line holding one is a leak. One definition of "text holding a token" serves the access log
(gunicorn.conf.py) and the filter on the app's and gunicorn's error loggers.

This module imports nothing from the app: the gunicorn master loads it by file (see
gunicorn.conf.py) without importing the app package, which its workers must import afresh.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

#: What a redacted path or word is replaced with.
REDACTED = "/resume/[token]"

#: "resume" followed by anything a router or proxy may take for a path separator: any number of
#: slashes or backslashes, raw or percent-encoded. Case-insensitive, though the route is not: a
#: redacted log line costs nothing, a leaked token costs a patient's privacy.
_TOKEN_PATH = re.compile(r"resume(?:[/\\]|%2f|%5c)+[^/\\\s]", re.IGNORECASE)

#: A word of a log line: a path, a URL or a request line's target, cut at whitespace and quotes.
_WORD = re.compile(r"""[^\s"'<>()\[\]{},]+""")

#: Percent-decoding rounds: enough for a double-encoded path (%252F), bounded for a hostile one.
_DECODING_ROUNDS = 3


def holds_token(text: str) -> bool:
    """Whether `text` (a path, a URL, a header or a word) may hold a resume token.

    True for every variant that still routes to /resume/<token> or could be turned into it by a
    proxy: doubled slashes, a trailing slash, a prefix, percent-encoded slashes or letters
    (%2F, %72esume), decoded up to three times.
    """
    for _ in range(_DECODING_ROUNDS + 1):
        if _TOKEN_PATH.search(text):
            return True
        decoded = unquote(text)
        if decoded == text:
            return False
        text = decoded
    return bool(_TOKEN_PATH.search(text))


def redact(text: str) -> str:
    """`text` with every word that may hold a resume token replaced by /resume/[token]."""
    if "resume" not in text.lower() and "%" not in text:
        return text  # the common case, without a regular expression
    return _WORD.sub(lambda word: REDACTED if holds_token(word.group()) else word.group(), text)


class RedactingFilter(logging.Filter):
    """Redacts a record's message, its exception's traceback and its stack before any handler
    formats them. Attached to handlers, it also covers records propagated from child loggers."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted now, so that handlers print this redacted text (a Formatter reuses
            # exc_text rather than formatting the exception again).
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


#: One instance, so that installing twice (an app created twice in one process) adds it once.
FILTER = RedactingFilter()


def install(*loggers: logging.Logger) -> None:
    """Attach the filter to each logger and to each of its handlers, once."""
    for logger in loggers:
        for target in (logger, *logger.handlers):
            if FILTER not in target.filters:
                target.addFilter(FILTER)
