"""Stays call codes, never the other way (docs/architecture.md, rule 8): no module of locks imports tenants'
services or views, whether at the top or inside a function. Read with `ast`, nothing imported."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
UPSTREAM = ("tenants.services", "tenants.setup_views", "tenants.views", "tenants.urls")


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_check_reads_the_modules_that_would_break_it() -> None:
    assert "locks.codes" in imported_names(ROOT / "tenants" / "services.py")  # tenants -> locks: allowed
    assert imported_names(ROOT / "locks" / "views.py")  # it does read locks


def test_no_locks_module_imports_tenants_services_or_views() -> None:
    offending = {
        str(path.relative_to(ROOT)): sorted(n for n in imported_names(path) if n.startswith(UPSTREAM))
        for path in sorted((ROOT / "locks").rglob("*.py"))
        if "migrations" not in path.parts
    }
    assert {path: names for path, names in offending.items() if names} == {}
