"""Every row of the spec's API list has a client method, and every client route is in the spec."""

from __future__ import annotations

import inspect

from locks.tuya.api import GROUP_CLASSES, ROUTES, LockApi, route_table
from tests.conftest import spec_api_rows as spec_rows

METHODS = {"GET", "POST", "PUT", "DELETE"}


def test_the_spec_table_parses_into_63_distinct_rows():
    rows = spec_rows()
    assert len(rows) == 63
    assert len(set(rows)) == len(rows)
    assert {method for method, _ in rows} <= METHODS
    assert all(path.startswith("/v") for _, path in rows)


def test_every_spec_row_has_a_client_method():
    missing = [row for row in spec_rows() if row not in ROUTES]
    assert missing == []


def test_every_client_route_is_a_spec_row():
    assert sorted(set(ROUTES) - set(spec_rows())) == []


def test_every_route_is_reachable_from_a_lock_api_group(fake):
    api = LockApi(object())  # type: ignore[arg-type] - only attribute lookup here
    table = route_table()
    assert set(table) == set(ROUTES)
    for name in table.values():
        group, method = name.split(".")
        assert callable(getattr(getattr(api, group), method)), name


def test_every_endpoint_method_has_a_one_line_docstring():
    for fn in ROUTES.values():
        doc = inspect.getdoc(fn) or ""
        assert doc, fn.__qualname__
        assert "\n" not in doc, fn.__qualname__


def test_group_classes_are_the_spec_groups():
    assert list(GROUP_CLASSES) == [
        "passwords",
        "offline",
        "users",
        "unlock_methods",
        "records",
        "remote_unlock",
        "device",
    ]
