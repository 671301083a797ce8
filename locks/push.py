"""Tuya's message service, the app's side: which projects to listen to, and what each message changes.

`manage.py tuya_push` runs one consumer thread per cloud project (locks.tuya.push.PushConsumer) in one process for
all accounts: a deployment has a handful of projects, each connection is idle most of the time, and one process is
one line in the Procfile. Accounts that share a project (two organisations with one Tuya project) share its one
subscription; a message's devId is looked up among the locks of all of them. A second `tuya_push` process is a hot
standby, not a duplicate: the subscription is Failover, so the cloud sends each project's messages to one consumer.

What a message does (every handler is safe to run twice: the service redelivers what was not acked):
- doorUnlockMethodStatus → the port's EnrollmentProgress (`enrollment_progress`) → enrollment.
  record_enrollment_message (the progress bar moves; the method turns active when watch_enrollment finds its number
  in the cloud, as before);
- a status report of an unlock, alarm or the doorbell → an events sync of that lock now (jobs.
  enqueue_events_sync_soon): on the `unlock` queue for a doorbell, so its remote-unlock request appears within
  seconds, on `sync` otherwise. The sync, not the message, stays the source of the records (it has the photo, the
  user, the exactly-once key);
- online / offline → Lock.online, last_seen_at and the offline alert (alerts.note_lock_state); back online also
  syncs its events (the records it kept while offline). A message older than the last one applied is ignored;
- residual_electricity → Lock.battery and the low-battery alert.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import TYPE_CHECKING, Any, TypedDict

import django_rq
from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from redis.exceptions import RedisError

from locks import alerts, enrollment, events, queues, remote
from locks.cloud import endpoints, port
from locks.models import CloudAccount, Lock
from locks.tuya import TuyaConfigError
from locks.tuya.push import DeviceEvent, PushConsumer, PushMessage, StatusReport, push_endpoint

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack is Python 3.11+

logger = logging.getLogger(__name__)

ALARM_CODES = frozenset({"alarm_lock", "hijack"})
RELOAD_SECONDS = 60


# --- who to listen to -----------------------------------------------------------------------------------------


def push_url_for(account: CloudAccount) -> str | None:
    """The message service of an account: the embedded simulator's, TUYA_PUSH_URL, or its region's; None if unknown,
    or if this server may not call the account's endpoint (the client's rule: a stored row that breaks it, such as
    a ws:// URL or a private address, gets no subscription, and no password derived from its secret is sent)."""
    try:
        endpoints.check_endpoint(account.endpoint, resolve=False)
    except port.EndpointRefused:
        return None
    if account.endpoint == endpoints.EMBEDDED:
        return str(settings.EMBEDDED_SIMULATOR_PUSH_URL) if settings.EMBEDDED_SIMULATOR else None
    if settings.TUYA_PUSH_URL:
        return str(settings.TUYA_PUSH_URL)
    try:
        return push_endpoint(account.endpoint)
    except TuyaConfigError:
        return None


@dataclass(frozen=True)
class Subscription:
    """One cloud project's topic, and the accounts (ours) whose locks its messages are about."""

    url: str
    access_id: str
    access_secret: str = field(repr=False)
    account_ids: tuple[int, ...]


def subscriptions(account_ids: Iterable[int] | None = None) -> list[Subscription]:
    accounts = CloudAccount.objects.order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=list(account_ids))
    grouped: dict[tuple[str, str], list[CloudAccount]] = {}
    for account in accounts:
        url = push_url_for(account)
        if url is None:
            logger.warning(
                "push: no message service for account %s (%s): its endpoint is not allowed here, or has none known "
                "(then set TUYA_PUSH_URL)",
                account.pk,
                account,
            )
            continue
        if not account.access_id or not account.access_secret:
            continue
        grouped.setdefault((url, account.access_id), []).append(account)
    return [
        Subscription(url, access_id, members[0].access_secret, tuple(a.pk for a in members))
        for (url, access_id), members in grouped.items()
    ]


# --- what a message does --------------------------------------------------------------------------------------


def handle(message: PushMessage, *, account_ids: Iterable[int]) -> str:
    """Apply one message to the locks it is about; returns what was done (for logs and tests)."""
    if not message.dev_id:
        return "no device"
    locks = list(Lock.objects.filter(cloud_account_id__in=list(account_ids), device_id=message.dev_id))
    if not locks:
        return "not our lock"
    done = "ignored"
    for lock in locks:
        if isinstance(message, DeviceEvent):
            done = _on_device_event(lock, message)
        elif isinstance(message, StatusReport):
            done = _on_status(lock, status_change(message))
    return done


# What a message means, in the port's terms (locks/cloud/port.py): the app's side below reads only these.


def online_change(message: DeviceEvent) -> port.OnlineChange:
    """An online or offline message; `at` when it says (milliseconds since the epoch)."""
    ms = message.ts or message.t
    at = datetime.fromtimestamp(ms / 1000, tz=dt_timezone.utc) if ms else None
    return port.OnlineChange(message.dev_id, message.biz_code == "online", at)


def status_change(report: StatusReport) -> port.StatusChange:
    """A status report: its codes, and its battery level when it reports one that can be (0..100 %)."""
    value = next((i.value for i in report.status if i.code == "residual_electricity"), None)
    plausible = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100
    return port.StatusChange(report.dev_id, report.codes, value if plausible else None)


def _on_device_event(lock: Lock, message: DeviceEvent) -> str:
    if message.biz_code == "doorUnlockMethodStatus":
        progress = enrollment_progress(lock.device_id, message.biz_data)
        method = enrollment.record_enrollment_message(lock=lock, progress=progress)
        return f"enrollment {method.pk}: {method.progress} %" if method else "no enrollment"
    if message.biz_code in ("online", "offline"):
        return _on_online(lock, online_change(message))
    return "ignored"


def enrollment_progress(device_id: str, biz_data: Mapping[str, Any]) -> port.EnrollmentProgress:
    """A `doorUnlockMethodStatus` message in the port's terms (spec "Push notification of unlocking method
    enrollment results"): presses in all (totalPeriod) and still to go (period); operate 2 with finish: cancelled."""
    return port.EnrollmentProgress(
        device_id,
        steps_total=_int(biz_data.get("totalPeriod")),
        steps_left=_int(biz_data.get("period")),
        cancelled=_int(biz_data.get("operate")) == 2 and bool(biz_data.get("finish")),
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(at: datetime | None) -> datetime:
    """When the message says it happened, never later than now (a clock ahead of ours); now if it does not say."""
    now = timezone.now()
    return min(at, now) if at else now


def _newest_wins(lock: Lock, when: datetime) -> bool:
    """Whether this online/offline message is newer than the last applied (a redelivery may come late)."""
    key, stamp = f"doors:push-online-at:{lock.pk}", int(when.timestamp() * 1000)
    try:
        connection = django_rq.get_connection("sync")
        last = connection.get(key)
        if last is not None and int(last) > stamp:
            return False
        connection.set(key, stamp, ex=7 * 24 * 3600)
    except RedisError:
        pass  # order unknown: apply it; the periodic health check corrects the rare stale one
    return True


def _on_online(lock: Lock, change: port.OnlineChange) -> str:
    online, when = change.online, _when(change.at)
    if not _newest_wins(lock, when):
        return "stale"
    fields: dict[str, object] = {"online": online}
    if online:
        fields["last_seen_at"] = lock.last_seen_at = max(filter(None, [lock.last_seen_at, when]))
    alerts.store_lock_state(lock, fields, at=when)  # the state, its alert and its webhook together
    if online:
        _sync_soon(lock, urgent=False)  # what it kept while offline
    return "online" if online else "offline"


def _on_status(lock: Lock, change: port.StatusChange) -> str:
    done = []
    battery = change.battery
    if battery is not None:
        Lock.objects.filter(pk=lock.pk).update(battery=battery)
        lock.battery = battery
        alerts.note_lock_state(lock)
        done.append("battery")
    codes = change.codes
    if codes & remote.REQUEST_CODES:
        done.append("sync now (doorbell)" if _sync_soon(lock, urgent=True) else "sync already waiting")
    elif any(code.startswith("unlock_") for code in codes) or codes & ALARM_CODES:
        done.append("sync" if _sync_soon(lock, urgent=False) else "sync already waiting")
    return ", ".join(done) or "ignored"


def _sync_soon(lock: Lock, *, urgent: bool) -> bool:
    if not events.streams_for(lock.kind):
        return False
    return queues.enqueue_events_sync_soon(lock.pk, urgent=urgent)


# --- the process ----------------------------------------------------------------------------------------------


def _handler(account_ids: tuple[int, ...]) -> Callable[[PushMessage], None]:
    def on_message(message: PushMessage) -> None:
        close_old_connections()
        try:
            done = handle(message, account_ids=account_ids)
        finally:
            close_old_connections()
        logger.info("push: %s %s → %s", type(message).__name__, message.message_id, done)

    return on_message


def _alive(account_ids: tuple[int, ...]) -> Callable[[], None]:
    """While connected: these accounts' messages arrive, so their quiet locks are polled rarely (events.due_lock_ids).
    The marker lapses soon after the connection drops, and polling returns to every interval."""

    def alive() -> None:
        try:
            with django_rq.get_connection(queues.SYNC_QUEUE).pipeline(transaction=False) as pipe:
                for account_id in account_ids:
                    pipe.set(queues.push_alive_marker(account_id), 1, ex=queues.PUSH_ALIVE_SECONDS)
                pipe.execute()
        except RedisError:
            logger.warning("push: could not record that the connection is alive; its locks are polled as usual")

    return alive


def _consume(consumer: PushConsumer, stop: threading.Event) -> None:
    try:
        consumer.run(stop)
    finally:
        connections.close_all()  # this thread's own


class ConsumerOptions(TypedDict, total=False):
    """PushConsumer's keyword options, passed through by the Listener to every consumer."""

    open_timeout: float
    backoff: float
    max_backoff: float
    ack_timeout_ms: int


class Listener:
    """The consumers of every subscription, each in its own thread; `reload` follows account changes."""

    def __init__(self, account_ids: Iterable[int] | None = None, **consumer_options: Unpack[ConsumerOptions]) -> None:
        self.account_ids = list(account_ids) if account_ids is not None else None
        self.consumer_options = consumer_options
        self.running: dict[Subscription, tuple[PushConsumer, threading.Event, threading.Thread]] = {}

    def reload(self) -> None:
        wanted = set(subscriptions(self.account_ids))
        for gone in [s for s in self.running if s not in wanted]:
            self._stop(gone)
        for sub in wanted - set(self.running):
            consumer = PushConsumer(
                sub.url, sub.access_id, sub.access_secret, _handler(sub.account_ids), on_alive=_alive(sub.account_ids),
                **self.consumer_options,
            )  # fmt: skip
            stop = threading.Event()
            thread = threading.Thread(target=_consume, args=(consumer, stop), name=f"push-{sub.access_id}", daemon=True)
            thread.start()
            self.running[sub] = (consumer, stop, thread)
            logger.info("push: listening to %s for accounts %s", consumer.url, list(sub.account_ids))

    def _stop(self, sub: Subscription) -> None:
        consumer, stop, thread = self.running.pop(sub)
        stop.set()
        consumer.close()
        thread.join(5)

    def stop(self) -> None:
        for sub in list(self.running):
            self._stop(sub)

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.reload()
            except Exception:
                logger.exception("push: reading the cloud accounts failed; trying again")
            finally:
                close_old_connections()
            stop.wait(RELOAD_SECONDS)
        self.stop()
