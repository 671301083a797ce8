"""The refusals each kind of operation can answer, declared on every operation so the document lists them all."""

from __future__ import annotations

from typing import Any

from api.problems import Problem

# Every operation: no key (401), a scope missing (403), rate limited (429), bad query or cursor (400, 422).
READ: dict[Any, Any] = {frozenset({400, 401, 403, 422, 429}): Problem}
ONE: dict[Any, Any] = {frozenset({400, 401, 403, 404, 422, 429}): Problem}
# Writes: also a foreign or missing id (404), the object's state (409), a body too large (413).
WRITE: dict[Any, Any] = {frozenset({400, 401, 403, 404, 409, 413, 422, 429}): Problem}


def ok(schema: Any, status: int = 200, errors: dict[Any, Any] = ONE) -> dict[Any, Any]:
    return {status: schema, **errors}
