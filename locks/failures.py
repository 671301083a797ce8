"""Cloud failures in the app's words: which kind of failure it is (the account refused, worth retrying), what it
means for this lock in plain words, and what it does to a lock's and an account's standing (the breaker).

Shared by the code state machine (locks/convergence.py), lock operations, the lock import, lock users and remote
unlock; it imports none of them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from locks.cloud import port
from locks.models import CloudAccount, Lock, LockKind
from locks.words import Words

# How a cloud error is handled everywhere: the account as a whole is refused (say so, stop), the call may succeed
# if tried again (retry), or this request was wrong (record the reason). A refused token is both (port.TokenRefused):
# where both are caught, TRANSIENT comes first, so a new token is tried before the account is called refused.
REFUSED = (port.AccountRefused,)  # credentials, signature, permission, an endpoint this server may not call
TRANSIENT = (port.Unavailable,)  # rate limited, no answer (timeouts too), a token to renew

# Battery Wi-Fi locks sleep between uses: online for the cloud, but reachable only while awake.
SLEEPING_KINDS = frozenset({LockKind.WIFI.value, LockKind.WIFI_VIDEO.value})


def unreachable(lock: Lock | None, otherwise: str) -> Words:
    """What "lock offline" (`port.LockOffline`, Tuya's 2001) means for this lock. The cloud's word is about the
    moment of the call; the lock's own last report (push, sync) says whether it has power, so "check its power"
    (`otherwise`, an English sentence marked for translation) is for a lock we know offline only."""
    if lock is None:
        return Words(otherwise)
    state = Lock.objects.filter(pk=lock.pk).values_list("online", "kind").first()
    online, kind = state if state is not None else (lock.online, lock.kind)
    if not online:
        return Words(otherwise)
    if kind in SLEEPING_KINDS:
        return Words(
            gettext_noop(
                "The lock is online but asleep: a battery Wi-Fi lock listens only while it is awake (someone rang or "
                "used it)."
            )
        )
    return Words(
        gettext_noop("The cloud could not reach the lock just now, although it reports online; try again in a moment.")
    )


def said(error: port.CloudError, hint: Words | None = None) -> Words:
    """'<message> (<vendor> <code>). <hint>' (port.CloudError.explained) as Words: the vendor's code as it is, the hint
    (ours, or the client's, marked for translation) in the reader's language."""
    what_to_do = hint if hint is not None else Words(error.hint) if error.hint else None
    message = error.message.rstrip(".")
    # The cloud's own message is not in the catalogues and reads as it came; the app's own (marked) ones translate.
    args: dict[str, Any] = {"message": Words(message) if message else ""}
    if error.code is not None:
        args |= {"vendor": error.vendor, "code": error.code}
    template = "%(message)s (%(vendor)s %(code)s)." if error.code is not None else "%(message)s."
    if what_to_do is None:
        return Words(template, args)
    return Words(template + " %(hint)s", args | {"hint": what_to_do})


def explain(error: port.CloudError, lock: Lock | None = None) -> Words:
    """A cloud error in plain words, with the vendor's code and what to do next (for the lock's real state, if
    given)."""
    return said(error, unreachable(lock, error.hint) if isinstance(error, port.LockOffline) else None)


# --- the breaker: a lock (or a whole account) that keeps failing is left alone for a while -------------------

BREAKER_THRESHOLD = 5  # consecutive failures on one lock before it is left alone for a while
BREAKER_PAUSE = timedelta(minutes=10)


def account_refused(account: CloudAccount, reason: str) -> None:
    CloudAccount.objects.filter(pk=account.pk).update(last_error=reason[:300])
    Lock.objects.filter(cloud_account=account).update(paused_until=timezone.now() + BREAKER_PAUSE)


def healthy(lock: Lock) -> None:
    if lock.failure_streak or lock.paused_until:
        Lock.objects.filter(pk=lock.pk).update(failure_streak=0, paused_until=None)
    account = lock.cloud_account
    if account.last_error:  # the cloud answered again: the account's refusal (and its alert) is over
        CloudAccount.objects.filter(pk=account.pk).update(last_error="")
        account.last_error = ""


def unhealthy(lock: Lock) -> None:
    streak = lock.failure_streak + 1
    paused = timezone.now() + BREAKER_PAUSE if streak >= BREAKER_THRESHOLD else None
    Lock.objects.filter(pk=lock.pk).update(failure_streak=streak, paused_until=paused)
    lock.failure_streak, lock.paused_until = streak, paused
