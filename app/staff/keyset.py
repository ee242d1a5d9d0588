"""Keyset pages ("seek" pagination) for long staff lists: the queue and the audit trail.

A page is found by where the previous one ended, not by how many rows come before it: with an
index in the list's order that ends in the id, the last page of a million rows is one index range
scan, as cheap as the first, where OFFSET would read every row it skips.

A page link carries the key of the row it continues from (say outcome rank, submission time and
id) as an opaque cursor: encrypted and authenticated (Fernet, with a key derived from the
encryption key), so that a link in a browser's history, a proxy's log or a screenshot does not say
that screening 1234 was an emergency, and a tampered, foreign, outdated or truncated cursor is
refused (the list then starts from its first page, saying so) rather than trusted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from app import crypto
from app.extensions import db

Row = TypeVar("Row")

#: A cursor is refused after this long: a page link is for browsing now, not for keeping.
CURSOR_LIFETIME_SECONDS = 24 * 3600
#: Longer than any cursor the app makes (about 150 characters); longer ones are refused unread.
CURSOR_MAX_LENGTH = 400

#: The values a key may hold, and how each goes into a cursor and back.
KeyValue = int | datetime


def _encode_value(value: KeyValue) -> list[object]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    return ["i", value]


def _decode_value(item: object) -> KeyValue:
    match item:
        case ["t", str(text)]:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                raise ValueError("a time without its zone")
            return moment
        case ["i", int(number)] if not isinstance(number, bool):
            return number
    raise ValueError("not a key value")


def encode_cursor(listing: str, key: Sequence[KeyValue]) -> str:
    """An opaque, authenticated cursor for the row with `key` in the list named `listing`."""
    return crypto.seal_link_value(json.dumps([listing, [_encode_value(value) for value in key]]))


def decode_cursor(listing: str, token: str, kinds: Sequence[type[KeyValue]]) -> tuple[KeyValue, ...] | None:
    """The key in `token`, if it is a cursor of `listing` made by this app in the last day, with
    values of `kinds` (say int, datetime, int); None for anything else (never an exception)."""
    if not token or len(token) > CURSOR_MAX_LENGTH or not token.isascii():
        return None
    text = crypto.open_link_value(token, CURSOR_LIFETIME_SECONDS)
    if text is None:
        return None
    try:
        found_listing, values = json.loads(text)
        if found_listing != listing or not isinstance(values, list) or len(values) != len(kinds):
            return None
        key = tuple(_decode_value(value) for value in values)
        if not all(isinstance(value, kind) for value, kind in zip(key, kinds, strict=True)):
            return None
        return key
    except (ValueError, TypeError):
        return None


@dataclass(frozen=True)
class PageRequest:
    """Which page of a list the query string asks for: the first, the last, or the one after or
    before a cursor. `refused` is set when a cursor was given but could not be used."""

    after: tuple[KeyValue, ...] | None = None
    before: tuple[KeyValue, ...] | None = None
    last: bool = False
    refused: bool = False


@dataclass(frozen=True)
class Page(Generic[Row]):
    """One page of a list, and whether there is anything before or after it."""

    rows: list[Row]
    #: The cursor of the first and the last row shown (None when the page is empty).
    first_cursor: str | None
    last_cursor: str | None
    has_previous: bool
    has_next: bool
    #: A cursor was given and refused, so this is the first page.
    refused: bool = False

    @property
    def is_first(self) -> bool:
        return not self.has_previous


class Keyset(Generic[Row]):
    """How one list is ordered: its key columns, whether it runs from the highest key down, and how
    to read a row's key. The list's index must hold the same columns in the same order."""

    def __init__(
        self,
        listing: str,
        columns: Sequence[tuple[InstrumentedAttribute[Any], type[KeyValue]]],
        key_of: Callable[[Row], tuple[KeyValue, ...]],
        *,
        descending: bool = False,
    ) -> None:
        self.listing, self.key_of, self.descending = listing, key_of, descending
        self.columns = tuple(column for column, _ in columns)
        self.kinds = tuple(kind for _, kind in columns)

    def requested(self, args: Mapping[str, str]) -> PageRequest:
        """The page the query string asks for (`after`, `before` or `page=last`); anything
        unusable gives the first page, marked refused."""
        after, before = args.get("after"), args.get("before")
        if after is not None and before is not None:
            return PageRequest(refused=True)
        if after is not None or before is not None:
            key = decode_cursor(self.listing, after or before or "", self.kinds)
            if key is None:
                return PageRequest(refused=True)
            return PageRequest(after=key) if after is not None else PageRequest(before=key)
        return PageRequest(last=args.get("page") == "last")

    def _beyond(self, key: tuple[KeyValue, ...], forward: bool, pinned: int) -> ColumnElement[bool]:
        """Rows after `key` in the list's order (forward), or before it, comparing the key's
        columns after the first `pinned` (which the query's filter holds equal to one value)."""
        columns = self.columns[pinned:]
        row = tuple_(*columns)
        # Each value bound with its column's type, so a time compares as the column stores it.
        values = zip(columns, key[pinned:], strict=True)
        bound = tuple_(*(bindparam(None, value, type_=column.type) for column, value in values))
        return row > bound if forward != self.descending else row < bound

    def _ordered(self, query: Select[tuple[Row]], forward: bool) -> Select[tuple[Row]]:
        ascending = forward != self.descending
        return query.order_by(None).order_by(*(column.asc() if ascending else column.desc() for column in self.columns))

    def _exists(self, query: Select[tuple[Row]], condition: ColumnElement[bool]) -> bool:
        """Whether `query` has a row meeting `condition` (one probe of the index)."""
        probe = query.where(condition).order_by(None).with_only_columns(self.columns[-1]).limit(1)
        return db.session.execute(probe).first() is not None

    def page(self, query: Select[tuple[Row]], wanted: PageRequest, per_page: int, pinned: int = 0) -> Page[Row]:
        """The page `wanted` of `query` (unordered: the key gives the order), per_page rows at most.

        `pinned`: how many of the key's first columns `query` holds to one value (the queue
        filtered by outcome holds the outcome rank). Comparing only the others lets SQLite use the
        index for the whole key; it gives the same rows.

        A page before a cursor that reaches the start of the list is shown as the first page, so
        that pages stay full from the top.
        """
        forward = not (wanted.before or wanted.last)
        start = wanted.after if forward else wanted.before
        fetch = self._ordered(query if start is None else query.where(self._beyond(start, forward, pinned)), forward)
        rows = list(db.session.scalars(fetch.limit(per_page + 1)))
        more = len(rows) > per_page
        rows = rows[:per_page]
        if forward and start is not None and not rows:  # past the end: the rows after it were deleted
            return self.page(query, PageRequest(last=True, refused=wanted.refused), per_page, pinned)
        if not forward:
            if not more and not wanted.last:  # the start of the list
                return self.page(query, PageRequest(refused=wanted.refused), per_page, pinned)
            rows.reverse()
        keys = [self.key_of(row) for row in rows]
        if forward:
            has_previous = (
                start is not None and bool(keys) and self._exists(query, self._beyond(keys[0], False, pinned))
            )
            has_next = more
        else:
            has_previous = more
            has_next = not wanted.last and bool(keys) and self._exists(query, self._beyond(keys[-1], True, pinned))
        return Page(
            rows=rows,
            first_cursor=encode_cursor(self.listing, keys[0]) if keys else None,
            last_cursor=encode_cursor(self.listing, keys[-1]) if keys else None,
            has_previous=has_previous,
            has_next=has_next,
            refused=wanted.refused,
        )
