"""Per-user state of the second factor that django-otp's devices do not hold: the wrong codes in a row with the
lockout they lead to, and the generation that every "remember this device" cookie carries (bumped by a reset)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SecondFactorState(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="second_factor_state")
    # A remembered device's cookie names the generation it was made in; a factor reset bumps it, ending them all.
    remember_generation = models.PositiveIntegerField(default=0)
    failed_codes = models.PositiveIntegerField(default=0)  # wrong codes in a row; a right one sets it back to 0
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"second factor of {self.user}"
