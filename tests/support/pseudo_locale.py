"""A pseudo-translation: every string of the catalogue template, bracketed and 40% longer.

Compiled into a throwaway translations directory under a shipped language's name, it shows what
a page would look like translated: an English sentence left unbracketed was never marked for
translation, and a layout that breaks with the longer strings would break in a real language.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TEMPLATE = Path(__file__).resolve().parents[2] / "translations" / "messages.pot"


def pseudo(text: str) -> str:
    """`text` bracketed and lengthened by 40%, as many translations run longer than English. The
    padding comes in words of five dots, as a real language's would: a line can break between them."""
    padding = "·" * max(1, len(text) * 2 // 5)
    return "⟦" + text + " ".join(padding[i : i + 5] for i in range(0, len(padding), 5)) + "⟧"


def pseudo_catalogue(locale: str) -> Catalog:
    """Every message of the catalogue template pseudo-translated for `locale` (every plural form)."""
    with TEMPLATE.open("rb") as file:
        template = read_po(file)
    catalogue = Catalog(locale=locale)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # singular and plural: every plural form of the language
            singular, plural = message.id
            forms = [pseudo(singular)] + [pseudo(plural)] * (catalogue.num_plurals - 1)
            catalogue.add(message.id, tuple(forms), context=message.context)
        else:
            catalogue.add(message.id, pseudo(message.id), context=message.context)
    return catalogue


def write_pseudo_catalogue(directory: Path, locale: str) -> Path:
    """Compile a pseudo-translation of every message into `directory`/`locale`, beside a copy of
    the template (as in translations/); return `directory`."""
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TEMPLATE, directory / "messages.pot")
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, pseudo_catalogue(locale))
    return directory


#: Elements whose content no one reads as text.
UNREAD = frozenset({"script", "style", "head"})
#: Elements with no end tag: never on the stack of open elements.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})
#: Attributes whose value is read out to people who use a screen reader, or shown by the page's script.
READ_ATTRIBUTES = ("aria-label", "alt", "placeholder", "data-copied", "data-copy-failed")
#: What is left of an English sentence once every bracketed (translated) text is taken out: a
#: word of two letters or more.
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
#: Not words: web addresses, and e-mail addresses.
ADDRESS = re.compile(r"(?:https?://|tel:|mailto:)\S+|\S+@\S+")
BRACKETED = re.compile(r"⟦[^⟦⟧]*⟧")


class _ReadText(HTMLParser):
    """The text a person reads on a page, in the page's own language: its title, the body's text
    and the attributes read out (READ_ATTRIBUTES), less scripts, styles and any element marked
    with another language (the switcher's language names)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page_language: str | None = None
        self.parts: list[str] = []
        self._open: list[bool] = []  # per open element: whether its text is read in the page's language
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.page_language = attributes.get("lang")
            return
        self._in_title = self._in_title or tag == "title"
        language = attributes.get("lang")
        read = tag not in UNREAD and (language is None or language == self.page_language)
        if read and all(self._open):
            self.parts.extend(str(attributes[name]) for name in READ_ATTRIBUTES if attributes.get(name))
        if tag not in VOID:
            self._open.append(read)

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_title and tag != "title"
        if tag not in VOID and tag != "html" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._in_title or all(self._open):
            self.parts.append(data)


def untranslated(html: str, allowed: Iterable[str] = ()) -> list[str]:
    """The English words a pseudo-translated page shows outside any bracketed text: each was never
    marked for translation. `allowed`: what may stay as it is (the clinic's name, its phone
    number, a screening's reference...); numbers and addresses are no words."""
    parser = _ReadText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    while BRACKETED.search(text):  # translated texts nest: a question's title inside a sentence
        text = BRACKETED.sub(" ", text)
    for value in sorted(allowed, key=len, reverse=True):
        text = text.replace(value, " ")
    text = ADDRESS.sub(" ", text)
    return [" ".join(line.split()) for line in text.splitlines() if ENGLISH_WORD.search(line)]
