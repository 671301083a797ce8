"""webhooks sits below the services that emit its events (docs/architecture.md): none of its modules imports a service
or a view of `locks` or `tenants` (they import `webhooks.emit`; the other way would be a cycle). Read with `ast`."""

from __future__ import annotations

from pathlib import Path

from tests.tenants.test_arrows import imported_names

ROOT = Path(__file__).resolve().parent.parent.parent
# What webhooks may import of the two apps: their models, the queues, the encrypted field, the address guard, the
# request's organisation and client address (for its views).
ALLOWED = (
    "tenants.models",
    "tenants.context",
    "tenants.signals",
    "locks.models",
    "locks.queues",
    "locks.fields",
    "locks.cloud.endpoints",
)


def test_webhooks_imports_no_service_or_view_of_locks_or_tenants() -> None:
    found = {
        str(path.relative_to(ROOT)): sorted(
            name
            for name in imported_names(path)
            if name.startswith(("locks", "tenants"))
            and not name.startswith(ALLOWED)
            and name not in ("locks", "tenants", "locks.cloud")
        )
        for path in sorted((ROOT / "webhooks").rglob("*.py"))
        if "migrations" not in path.parts
    }
    assert "locks.queues" in imported_names(ROOT / "webhooks" / "emit.py")  # the check reads the modules
    assert {path: names for path, names in found.items() if names} == {}
