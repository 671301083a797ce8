"""Which rows of our client's route table the contract tests called (used by conftest.py and
test_contract_coverage.py).

The sets live in this module rather than in conftest.py because pytest imports the contract conftest as a
top-level `conftest` module while tests import it as `tests.contract.conftest`: two module objects, two sets.
This module is imported under one name only.
"""

from __future__ import annotations

import json
import re

from locks.tuya import RawResponse
from locks.tuya.api import route_table

CLIENT_ROUTES: frozenset[tuple[str, str]] = frozenset(route_table())
_PATTERNS = [(key, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(key[1])) + "$")) for key in CLIENT_ROUTES]
CALLED_ROUTES: set[tuple[str, str]] = set()  # requests sent, whatever the answer
ANSWERED_ROUTES: set[tuple[str, str]] = set()  # requests the simulator answered with success
COVERAGE_FILE = "test_contract_coverage.py"


def record_route(method: str, path: str, response: RawResponse) -> None:
    """Note the route template(s) a request path matches, and whether the answer was a success."""
    try:
        ok = json.loads(response.body).get("success") is True
    except (ValueError, AttributeError):
        ok = False
    for key, pattern in _PATTERNS:
        if key[0] == method and pattern.match(path):
            CALLED_ROUTES.add(key)
            if ok:
                ANSWERED_ROUTES.add(key)
