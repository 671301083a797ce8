"""Keeps `Lock.property` equal to the property of the lock's unit when the unit itself moves or goes (a lock's own
unit changes go through `Lock.save`)."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save, pre_delete
from django.dispatch import receiver

from locks.models import Lock
from tenants.models import Unit


@receiver(post_save, sender=Unit, dispatch_uid="locks.unit_moved")
def unit_saved(sender: type[Unit], instance: Unit, **kwargs: Any) -> None:
    Lock.objects.filter(unit=instance).exclude(property_id=instance.property_id).update(
        property_id=instance.property_id
    )


@receiver(pre_delete, sender=Unit, dispatch_uid="locks.unit_deleted")
def unit_deleted(sender: type[Unit], instance: Unit, **kwargs: Any) -> None:
    # The unit's locks stay (unit SET_NULL): they are on no door, so on no property either.
    Lock.objects.filter(unit=instance).update(property=None)
