"""Every row of our client's route table is exercised by the contract tests, over real HTTP.

Every request our client sends through a contract `Sim` is matched against the client's route templates by the
recording transport in conftest.py (the sets live in route_coverage.py). This test runs last in the session
(conftest's pytest_collection_modifyitems) and checks the collected rows. Run alone, or with only part of the
contract directory, it has nothing to judge and skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from locks.tuya.api import route_table
from tests.contract.route_coverage import ANSWERED_ROUTES, CALLED_ROUTES, CLIENT_ROUTES, COVERAGE_FILE

CONTRACT_DIR = Path(__file__).resolve().parent
SPEC_ROWS = 63  # the rows of the spec's API list


def _contract_files_in_session(session: pytest.Session) -> set[str]:
    return {item.path.name for item in session.items if item.path.parent == CONTRACT_DIR}


def test_every_client_route_is_called_by_a_contract_test(request: pytest.FixtureRequest) -> None:
    wanted = {path.name for path in CONTRACT_DIR.glob("test_*.py")} - {COVERAGE_FILE}
    missing_files = wanted - _contract_files_in_session(request.session)
    if missing_files:
        pytest.skip(f"only part of the contract suite ran (not {', '.join(sorted(missing_files))})")
    assert len(CLIENT_ROUTES) == SPEC_ROWS
    names = route_table()

    never_called = sorted(f"{names[key]}: {key[0]} {key[1]}" for key in CLIENT_ROUTES - CALLED_ROUTES)
    assert never_called == [], "client routes no contract test calls"
    # Called is not enough: each row must also have been answered with success at least once.
    never_answered = sorted(f"{names[key]}: {key[0]} {key[1]}" for key in CLIENT_ROUTES - ANSWERED_ROUTES)
    assert never_answered == [], "client routes never answered with success"
