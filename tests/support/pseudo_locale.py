"""A pseudo-translation: every string of the catalogue template, bracketed and 40% longer.

Compiled into a throwaway translations directory under a shipped language's name, it shows what
a page would look like translated: an English sentence left unbracketed was never marked for
translation, and a layout that breaks with the longer strings would break in a real language.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

TEMPLATE = Path(__file__).resolve().parents[2] / "translations" / "messages.pot"


def pseudo(text: str) -> str:
    """`text` bracketed and lengthened by 40%, as many translations run longer than English."""
    return "⟦" + text + "·" * max(1, len(text) * 2 // 5) + "⟧"


def write_pseudo_catalogue(directory: Path, locale: str) -> Path:
    """Compile a pseudo-translation of every message into `directory`/`locale`; return `directory`."""
    with TEMPLATE.open("rb") as file:
        template = read_po(file)
    catalogue = Catalog(locale=locale)
    for message in template:
        if message.id:
            catalogue.add(message.id, pseudo(str(message.id)))
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalogue)
    return directory
