"""Printable pages as PDF files, made by WeasyPrint from the same HTML and stylesheets a browser
prints (issue 18): one template for both, laid out by the stylesheets' print rules.

WeasyPrint shapes text with Pango, so Gurmukhi, Chinese and Farsi (right to left) come out as a
browser shows them, in the system's fonts (Debian's fonts-noto-core and fonts-noto-cjk). It
fetches nothing: the stylesheets are read from the app's own files, and every address a page
names is refused (a link's target is never fetched anyway), so making a PDF makes no request.

Pango is a system library (README, Quick start). WeasyPrint is imported only when a PDF is
asked for, so that the app runs without it; a PDF asked for then is `Unavailable`.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import current_app

#: The stylesheets of a printable page, from the app's static folder, in the order a page links them.
STYLESHEETS = ("css/site.css", "css/printable.css")

# WeasyPrint names each CSS property it does not implement (for the browser's sake, the site's
# stylesheet has some) on every document; only its errors are worth a line in the server's log.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


class Unavailable(RuntimeError):
    """WeasyPrint cannot run on this machine: the system's Pango is missing or too old."""


@cache
def _weasyprint() -> ModuleType:
    try:
        import weasyprint
    except OSError as error:  # cffi could not load Pango
        raise Unavailable(f"WeasyPrint cannot load Pango ({error}): see README, Quick start") from error
    return weasyprint


def _no_fetching() -> Any:
    """A URL fetcher that refuses every address, so that a page never reads a file or the network."""
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> None:
            raise ValueError(f"a printable page fetches nothing ({url.split(':', 1)[0]}: address refused)")

    return NoFetching()


@cache
def _stylesheets(static_folder: str) -> tuple[Any, ...]:
    """The stylesheets, parsed once per process (about 60 ms each time otherwise). They declare no
    web fonts, so no font configuration is tied to them: each document gets its own."""
    weasyprint = _weasyprint()
    return tuple(
        weasyprint.CSS(filename=str(Path(static_folder) / name), url_fetcher=_no_fetching()) for name in STYLESHEETS
    )


def from_html(html: str) -> bytes:
    """A PDF of `html`, a whole document laid out with `STYLESHEETS` for print (the page size is
    the stylesheet's @page), tagged so that a screen reader reads it in order. Raises
    `Unavailable` when WeasyPrint cannot run here."""
    static_folder = current_app.static_folder
    assert static_folder is not None
    document = _weasyprint().HTML(string=html, url_fetcher=_no_fetching())
    pdf: bytes = document.write_pdf(stylesheets=list(_stylesheets(static_folder)), pdf_tags=True)
    return pdf
