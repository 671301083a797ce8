"""Keyset pages: rows in id order after an opaque cursor, so page 1,000 costs what page 1 does."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from api.problems import INVALID, ApiProblem

_M = TypeVar("_M", bound=Model)
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiProblem(400, "This cursor is not one the API gave; start again without it.", type=INVALID) from None


def page(
    queryset: QuerySet[_M],
    *,
    cursor: str | None,
    limit: int,
    render: Callable[[Sequence[_M]], list[Any]],
    follow: bool = False,
) -> dict[str, Any]:
    """One page of `queryset` (already filtered and scoped) in id order, rendered, with the next page's cursor.

    `follow`: a feed to poll (events). The cursor is given on the last page too (after its last row, or the one
    asked with when nothing is new), so a script asks again later with it and gets what was stored since."""
    if cursor:
        queryset = queryset.filter(pk__gt=decode(cursor))
    rows = list(queryset.order_by("pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    if rows and (more or follow):
        next_cursor: str | None = encode(rows[-1].pk)
    else:
        next_cursor = cursor if follow and cursor else None
    return {"items": render(rows), "next_cursor": next_cursor}
