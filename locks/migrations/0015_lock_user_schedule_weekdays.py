"""LockUser.schedule (and the "schedule" of a change still on its way, in `pending`) in the app's terms: each window's
days as date.weekday() numbers (0 = Monday), as the cloud port's WeeklyHours, instead of Tuya's working_day bitmask
(bit 0 = Sunday ... bit 6 = Saturday). Reversible: going back writes the bitmask again (docs/architecture.md, "The
cloud port")."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def days_of(mask: Any) -> list[int]:
    """The weekdays of a bitmask; none for one outside 1..127 (the cloud's samples show 0), as the adapter reads it."""
    if isinstance(mask, bool) or not isinstance(mask, int) or not 1 <= mask <= 127:
        return []
    return [day for day in range(7) if mask & (1 << ((day + 1) % 7))]


def mask_of(days: list[int]) -> int:
    """The bitmask of these weekdays; 0 for none (what such a window was stored as before)."""
    mask = 0
    for day in days:
        mask |= 1 << ((day + 1) % 7)
    return mask


def to_days(window: dict[str, Any]) -> dict[str, Any]:
    if "working_day" not in window:
        return window  # already converted
    rest = {key: value for key, value in window.items() if key != "working_day"}
    return {"days": days_of(window["working_day"]), **rest}


def to_mask(window: dict[str, Any]) -> dict[str, Any]:
    if "days" not in window:
        return window
    rest = {key: value for key, value in window.items() if key != "days"}
    return {"working_day": mask_of(window["days"]), **rest}


def convert(apps: Any, convert_window: Any) -> None:
    lock_user = apps.get_model("locks", "LockUser")
    for row in lock_user.objects.all().only("pk", "schedule", "pending").iterator():
        schedule = [convert_window(w) if isinstance(w, dict) else w for w in row.schedule or []]
        pending = dict(row.pending or {})
        if isinstance(pending.get("schedule"), list):
            pending["schedule"] = [convert_window(w) if isinstance(w, dict) else w for w in pending["schedule"]]
        if schedule != row.schedule or pending != row.pending:
            lock_user.objects.filter(pk=row.pk).update(schedule=schedule, pending=pending)


def forwards(apps: Any, schema_editor: Any) -> None:
    convert(apps, to_days)


def backwards(apps: Any, schema_editor: Any) -> None:
    convert(apps, to_mask)


class Migration(migrations.Migration):
    dependencies = [("locks", "0014_auditevent_moves_to_audit")]

    operations = [migrations.RunPython(forwards, backwards)]
