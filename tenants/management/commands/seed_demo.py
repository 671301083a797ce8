"""Demo data: a hotel and a landlord, their people and places, locks of every kind and codes in every state.

`manage.py seed_demo` creates the organisations, properties, units, guests, logins and cloud accounts (no
cloud needed) and prints the logins. `manage.py seed_demo --cloud` then plays the installer and the front
desk against the cloud over HTTP: it puts the locks on the doors (the simulator's world API, `/_sim/`), brings
them in with `locks.accounts.import_locks`, attaches them to units, books stays and issues codes with the services,
and lets the RQ workers take them to the locks (or runs the jobs itself with `--burst`). Every state a code
is in comes from that lifecycle, never from writing a status.

Each organisation has a simulated cloud project of its own, which the cloud phase creates in the simulator (the
world API, as a customer creates one on Tuya's IoT platform): a project sees only its own devices, so neither
organisation can import the other's locks.

Idempotent: a second run finds everything by name and changes nothing. `dev.py run` runs the cloud phase
once the app (and with it the embedded simulator) answers. It refuses to run with DEBUG off (its logins have
published passwords, one of them a superuser's) unless given --force.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

import django_rq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from rq import SimpleWorker
from rq.serializers import JSONSerializer

from locks import accounts as lock_accounts
from locks import codes as lock_codes
from locks import jobs
from locks.cloud import endpoints
from locks.models import AccessCode, CloudAccount, Lock
from tenants import services as tenant_services
from tenants.models import Guest, Membership, Organisation, Property, Role, Stay, Unit

CANAL, RIVERSIDE = "canal-hotel", "riverside-lettings"
ORGANISATIONS = {CANAL: "Canal Hotel", RIVERSIDE: "Riverside Lettings"}

# A simulated cloud project per organisation, as two customers of Tuya would have. The hotel's is the simulator's
# default project (the same values as locks/simulator/conf.py, duplicated on purpose: the app talks to the simulator
# over HTTP only), or the configured one when TUYA_ACCESS_ID / TUYA_ACCESS_SECRET are set; the landlord's is made in
# the simulator by the cloud phase.
DEMO_ACCESS_ID = "simdemoaccessid00001"
DEMO_ACCESS_SECRET = "SimDemoSecret0123456789abcdefXYZ"
DEMO_PROJECTS = {
    CANAL: (DEMO_ACCESS_ID, DEMO_ACCESS_SECRET),
    RIVERSIDE: ("simdemoaccessid00002", "SimDemoSecretRiverside0123456789"),
}
DEMO_ACCOUNT_NAME = "Tuya cloud (simulator)"

# (organisation, property, kind, time zone, address, [(unit, lock kind), ...])
PROPERTIES = [
    (
        CANAL,
        "Canal Hotel",
        Property.Kind.HOTEL,
        "Europe/Amsterdam",
        "Prinsengracht 263, Amsterdam",
        [
            *[(f"Room {n}", "zigbee_hotel") for n in range(101, 107)],
            ("Room 107", "wifi_video"),
            ("Room 108", "wifi_keepalive"),
            ("Staff entrance", "access_control"),
        ],
    ),
    (
        RIVERSIDE,
        "Riverside House",
        Property.Kind.RENTAL,
        "Europe/London",
        "12 Embankment Road, London",
        [("Flat 1", "wifi"), ("Flat 2", "zigbee"), ("Flat 3", "ble_gateway")],
    ),
    (
        RIVERSIDE,
        "Hudson Lofts",
        Property.Kind.RENTAL,
        "America/New_York",
        "450 West 17th Street, New York",
        [("Loft A", "wifi"), ("Loft B", "zigbee"), ("Loft C", "ble")],
    ),
]


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    organisation: str | None  # None: the staff superuser
    role: str | None
    what: str


LOGINS = [
    Login("admin", "admin-doors", None, None, "staff superuser (everything, the admin and the queues)"),
    Login("owner", "owner-doors", CANAL, Role.OWNER, "Canal Hotel, owner"),
    Login("manager", "manager-doors", CANAL, Role.MANAGER, "Canal Hotel, manager"),
    Login("desk", "desk-doors", CANAL, Role.FRONT_DESK, "Canal Hotel, front desk"),
    Login("viewer", "viewer-doors", CANAL, Role.VIEWER, "Canal Hotel, viewer (no PINs)"),
    Login("landlord", "landlord-doors", RIVERSIDE, Role.OWNER, "Riverside Lettings, landlord (owner)"),
]


class World:
    """The simulator's physical side (`/_sim/`), plain JSON over HTTP: what an installer does at the door."""

    def __init__(self, endpoint_url: str) -> None:
        self.url = endpoint_url.rstrip("/") + "/_sim"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())


def _local(prop: Property, days: int, hour: int, minute: int = 0) -> datetime:
    """`days` from today in the property's time zone, at hour:minute there."""
    tz = zoneinfo.ZoneInfo(prop.time_zone)
    today: date = timezone.now().astimezone(tz).date()
    return datetime.combine(today + timedelta(days=days), clock_time(hour, minute), tzinfo=tz)


def _next_hour(after: datetime) -> datetime:
    return after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


class Command(BaseCommand):
    help = "Create the demo organisations, logins, locks, stays and codes (idempotent) and print the logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cloud",
            action="store_true",
            help="also put locks on the doors, import them and issue codes (needs the simulator to answer)",
        )
        parser.add_argument(
            "--endpoint",
            default=None,
            help='the cloud accounts\' endpoint: "embedded" (default: the simulator this app serves) or a URL',
        )
        parser.add_argument(
            "--burst", action="store_true", help="run the code jobs in this process instead of waiting for workers"
        )
        parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for codes to settle")
        parser.add_argument(
            "--force", action="store_true", help="seed even with DEBUG off (a staging demo; never a real deployment)"
        )
        parser.add_argument(
            "--no-logins", action="store_true", help="do not print the logins (dev.py prints them once the app is up)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "DEBUG is off (production mode), so seed_demo refuses to run: it creates logins whose passwords are "
                "published in the README, among them the superuser admin / admin-doors. For a demo or staging "
                "machine that must run with DEBUG off, run it again with --force."
            )
        self.burst = options["burst"]
        self.timeout = options["timeout"]
        accounts = self.seed_places_and_people(options["endpoint"])
        if options["cloud"]:
            self.seed_cloud(accounts)
        if not options["no_logins"]:
            self.print_logins()

    # --- people and places (no cloud) ----------------------------------------------------------------------

    @transaction.atomic
    def seed_places_and_people(self, endpoint: str | None) -> dict[str, CloudAccount]:
        """Everything but the cloud; returns each organisation's demo cloud account, by organisation slug."""
        orgs = {
            slug: Organisation.objects.get_or_create(slug=slug, defaults={"name": name})[0]
            for slug, name in ORGANISATIONS.items()
        }
        for slug, name, kind, tz, address, units in PROPERTIES:
            prop, _ = Property.objects.get_or_create(
                organisation=orgs[slug], name=name, defaults={"kind": kind, "time_zone": tz, "address": address}
            )
            for unit_name, _kind in units:
                Unit.objects.get_or_create(property=prop, name=unit_name)
        for login in LOGINS:
            user = self._user(login.username, login.password, staff=True, superuser=login.organisation is None)
            if login.organisation is None or login.role is None:  # the superuser: no membership
                continue
            membership, _ = Membership.objects.get_or_create(
                user=user, organisation=orgs[login.organisation], defaults={"role": login.role}
            )
            if membership.role != login.role:
                membership.role = login.role
                membership.save(update_fields=["role"])
            if login.role == Role.FRONT_DESK:  # the desk works at the hotel only
                hotel = Property.objects.get(organisation=orgs[CANAL], name="Canal Hotel")
                if not membership.limited_to_properties or list(membership.properties.all()) != [hotel]:
                    membership.limit_to([hotel])
        # The login the README's settings table documents (DEMO_USERNAME / DEMO_PASSWORD).
        self._user(*self._legacy_demo(), staff=True, superuser=False)
        accounts = {}
        for slug, org in orgs.items():
            access_id, secret = self._credentials(slug)
            # The organisation may have other cloud accounts, even for this project on another endpoint: the demo's
            # is the one on the endpoint asked for, else the oldest for this project.
            same_project = CloudAccount.objects.filter(organisation=org, access_id=access_id).order_by("pk")
            account = (endpoint and same_project.filter(endpoint=endpoint).first()) or same_project.first()
            if account is None:
                account = CloudAccount.objects.create(
                    organisation=org,
                    access_id=access_id,
                    name=DEMO_ACCOUNT_NAME,
                    endpoint=endpoint or endpoints.EMBEDDED,
                    access_secret=secret,
                )
            elif endpoint and account.endpoint != endpoint:
                account.endpoint = endpoint
                account.save(update_fields=["endpoint"])
            accounts[slug] = account
        return accounts

    @staticmethod
    def _legacy_demo() -> tuple[str, str]:
        return os.environ.get("DEMO_USERNAME", "demo"), os.environ.get("DEMO_PASSWORD", "demo-doors")

    @staticmethod
    def _credentials(slug: str) -> tuple[str, str]:
        if slug == CANAL and settings.TUYA_ACCESS_ID:  # the project the simulator is configured with
            return settings.TUYA_ACCESS_ID, settings.TUYA_ACCESS_SECRET
        return DEMO_PROJECTS[slug]

    @staticmethod
    def _user(username: str, password: str, *, staff: bool, superuser: bool) -> Any:
        user, created = get_user_model().objects.get_or_create(username=username)
        changed = created or user.is_staff != staff or user.is_superuser != superuser or not user.is_active
        if created:  # a password changed since is left alone: set it back in the admin or with changepassword
            user.set_password(password)
        if changed:
            user.is_staff, user.is_superuser, user.is_active = staff, superuser, True
            user.save()
        return user

    def print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo logins (username / password):"))
        for login in LOGINS:
            self.stdout.write(f"  {login.username:<9} / {login.password:<15} {login.what}")
        username, password = self._legacy_demo()
        self.stdout.write(f"  {username:<9} / {password:<15} staff login without an organisation")

    # --- locks, stays and codes (over the cloud) -----------------------------------------------------------

    def seed_cloud(self, accounts: dict[str, CloudAccount]) -> None:
        self.locks: dict[tuple[str, str], Lock] = {}  # (property, unit) -> lock
        orgs = {slug: account.organisation for slug, account in accounts.items()}
        for slug, account in accounts.items():
            self._install_locks(account, [p for p in PROPERTIES if p[0] == slug])
        first = self._first_round(orgs)
        self._settle(first)
        follow_up = self._second_round(orgs)
        self._settle(first + follow_up)
        self._report(orgs)

    def _install_locks(self, account: CloudAccount, properties: list[tuple[Any, ...]]) -> None:
        org = account.organisation
        world = World(endpoints.resolve_endpoint(account.endpoint))
        try:
            # The organisation's cloud project, as its owner creates it on Tuya's platform (idempotent).
            world.call("POST", "/projects", {"access_id": account.access_id, "secret": account.access_secret})
            present = [d for d in world.call("GET", "/devices")["devices"] if d["access_id"] == account.access_id]
        except urllib.error.HTTPError as exc:
            raise CommandError(
                f"The simulator at {world.url} refused {org.name}'s cloud project {account.access_id}: "
                f"{exc.read().decode(errors='replace')}"
            ) from exc
        except OSError as exc:
            raise CommandError(f"The simulator's world API at {world.url} does not answer ({exc}).") from exc
        by_name = {d["name"]: d["id"] for d in present}
        wanted: dict[str, tuple[Unit, str]] = {}
        for _slug, prop_name, _kind, tz, _address, units in properties:
            prop = Property.objects.get(organisation=org, name=prop_name)
            for unit_name, kind in units:
                device_name = f"{prop_name} · {unit_name}"
                if device_name not in by_name:  # the installer mounts the lock and pairs it with the project
                    body = {"kind": kind, "name": device_name, "time_zone": tz, "access_id": account.access_id}
                    by_name[device_name] = world.call("POST", "/devices", body)["id"]
                wanted[by_name[device_name]] = (Unit.objects.get(property=prop, name=unit_name), device_name)
        known = set(
            Lock.objects.filter(cloud_account=account, device_id__in=wanted).values_list("device_id", flat=True)
        )
        if known != set(wanted):
            # The doors seeded here, not whatever else someone added to the project in the simulator's world.
            lock_accounts.import_locks(account, device_ids=sorted(wanted))
        for lock in Lock.objects.filter(cloud_account=account, device_id__in=wanted):
            unit, _name = wanted[lock.device_id]
            if lock.unit_id != unit.pk:
                lock.unit = unit
                lock.save(update_fields=["unit"])
            self.locks[(unit.property.name, unit.name)] = lock

    def _guest(self, org: Organisation, name: str, **extra: str) -> Guest:
        return Guest.objects.get_or_create(organisation=org, name=name, defaults=extra)[0]

    def _stay(
        self,
        org: Organisation,
        prop: str,
        unit: str,
        guest: str,
        check_in: datetime,
        check_out: datetime,
        kind: str = Stay.Kind.HOTEL,
    ) -> Stay:
        unit_obj = Unit.objects.get(property__organisation=org, property__name=prop, name=unit)
        person = self._guest(org, guest, email=f"{guest.split()[0].lower()}@example.com")
        stay = Stay.objects.filter(unit=unit_obj, guest=person).first()
        if stay is None:
            stay = tenant_services.book_stay(
                unit=unit_obj, guest=person, check_in=check_in, check_out=check_out, kind=kind
            )
        if check_in <= timezone.now() and stay.status == Stay.Status.BOOKED:
            # No service marks arrival (the desk does): a stay that has begun is shown as checked in.
            Stay.objects.filter(pk=stay.pk).update(status=Stay.Status.CHECKED_IN)
        return stay

    def _code(
        self, org: Organisation, prop: str, unit: str, label: str, starts_at: datetime, ends_at: datetime, **extra: Any
    ) -> AccessCode:
        lock = self.locks[(prop, unit)]
        code = AccessCode.objects.filter(lock=lock, label=label).first()
        if code is None:
            guest = self._guest(org, extra.pop("guest_name", label))
            code = lock_codes.issue_access_code(
                lock=lock, label=label, starts_at=starts_at, ends_at=ends_at, guest=guest, **extra
            )
        return code

    def _first_round(self, orgs: dict[str, Organisation]) -> list[int]:
        canal, riverside = orgs[CANAL], orgs[RIVERSIDE]
        hotel = Property.objects.get(organisation=canal, name="Canal Hotel")
        london = Property.objects.get(organisation=riverside, name="Riverside House")
        new_york = Property.objects.get(organisation=riverside, name="Hudson Lofts")
        now = timezone.now()
        stays = [
            # Guests in the house now: their codes are on the locks.
            self._stay(canal, "Canal Hotel", "Room 101", "Ada Lovelace", _local(hotel, -1, 15), _local(hotel, 2, 11)),
            self._stay(canal, "Canal Hotel", "Room 102", "Grace Hopper", _local(hotel, -2, 15), _local(hotel, 1, 11)),
            self._stay(canal, "Canal Hotel", "Room 103", "Alan Turing", _local(hotel, -1, 15), _local(hotel, 3, 11)),
            self._stay(
                canal, "Canal Hotel", "Room 107", "Margaret Hamilton", _local(hotel, -1, 15), _local(hotel, 2, 11)
            ),
            self._stay(canal, "Canal Hotel", "Room 108", "Donald Knuth", _local(hotel, -3, 15), _local(hotel, 4, 11)),
            # Arrives tomorrow: the code is on the lock already, valid from check-in.
            self._stay(
                canal, "Canal Hotel", "Room 104", "Katherine Johnson", _local(hotel, 1, 15), _local(hotel, 4, 11)
            ),
            # Leaves today (at 11:00, or within the hour when that has passed).
            self._stay(
                canal,
                "Canal Hotel",
                "Room 105",
                "Edsger Dijkstra",
                _local(hotel, -2, 15),
                max(_local(hotel, 0, 11), _next_hour(now + timedelta(minutes=30))),
            ),  # fmt: skip
            # Leaves early (checked out below): the code comes off the lock.
            self._stay(canal, "Canal Hotel", "Room 106", "Barbara Liskov", _local(hotel, -1, 15), _local(hotel, 2, 11)),
            # Tenants on leases, in London and New York.
            *[
                self._stay(riverside, p.name, unit, name, _local(p, -60, 12), _local(p, 305, 12), Stay.Kind.LONG_TERM)
                for p, unit, name in [
                    (london, "Flat 1", "Olivia Bennett"),
                    (london, "Flat 2", "Harry Patel"),
                    (london, "Flat 3", "Amelia Clarke"),
                    (new_york, "Loft A", "Maya Rodriguez"),
                    (new_york, "Loft B", "Ethan Brooks"),
                    (new_york, "Loft C", "James Wilson"),
                ]
            ],
        ]
        codes = [
            self._code(
                canal, "Canal Hotel", "Staff entrance", "Night porter", _local(hotel, 0, 0), _local(hotel, 90, 0)
            ),
            # The cleaner: Mondays and Wednesdays 09:00-12:00 London time, on the lock's own schedule.
            self._code(
                riverside,
                "Riverside House",
                "Flat 1",
                "Cleaner (Mon/Wed 09:00-12:00)",
                _local(london, 0, 0),
                _local(london, 84, 0),
                kind=AccessCode.Kind.WEEKLY,
                schedule=lock_codes.WeeklySchedule(frozenset({0, 2}), 9 * 60, 12 * 60),
                guest_name="Sparkle Cleaning",
            ),  # fmt: skip
            # Frozen below while the tenant is away.
            self._code(
                riverside, "Riverside House", "Flat 2", "Dog walker", _local(london, 0, 0), _local(london, 30, 0)
            ),
            # A contractor who may come in once, tomorrow during working hours.
            self._code(
                riverside,
                "Hudson Lofts",
                "Loft A",
                "Plumber (one visit)",
                _local(new_york, 1, 8),
                _local(new_york, 1, 17),
                kind=AccessCode.Kind.ONCE,
                guest_name="Joe's Plumbing",
            ),  # fmt: skip
            # Removed below: the move is done.
            self._code(riverside, "Hudson Lofts", "Loft B", "Movers", _local(new_york, 0, 0), _local(new_york, 7, 0)),
        ]
        return [c.pk for stay in stays for c in stay.access_codes.all()] + [c.pk for c in codes]

    def _second_round(self, orgs: dict[str, Organisation]) -> list[int]:
        """What happens once the first codes are on the locks: a freeze, a removal, an early check-out, and a
        code the hotel lock refuses because its window overlaps the guest's."""
        canal = orgs[CANAL]
        hotel = Property.objects.get(organisation=canal, name="Canal Hotel")
        walker = AccessCode.objects.get(lock=self.locks[("Riverside House", "Flat 2")], label="Dog walker")
        lock_codes.freeze_access_code(walker)
        movers = AccessCode.objects.get(lock=self.locks[("Hudson Lofts", "Loft B")], label="Movers")
        lock_codes.remove_access_code(movers)
        early = Stay.objects.get(unit__property=hotel, unit__name="Room 106", guest__name="Barbara Liskov")
        tenant_services.check_out_stay(early)
        overlapping = self._code(
            canal, "Canal Hotel", "Room 101", "Extra guest (overlaps Ada's stay)",
            _local(hotel, 0, 0), _local(hotel, 2, 11), guest_name="Charles Babbage",
        )  # fmt: skip
        return [overlapping.pk]

    def _settle(self, code_ids: list[int]) -> None:
        """Wait until the codes are where we want them (or failed), running the jobs here with --burst."""
        deadline = time.monotonic() + self.timeout
        while True:
            if self.burst:
                _run_jobs()
            pending = [c for c in AccessCode.objects.filter(pk__in=code_ids) if not _done(c)]
            if not pending:
                return
            if time.monotonic() > deadline:
                self.stderr.write(
                    f"{len(pending)} codes are still on their way after {self.timeout:.0f} s; the workers carry on."
                )
                return
            if self.burst:
                jobs.sweep_access_codes()  # as the scheduler would, for codes waiting out a backoff
            time.sleep(0.2 if self.burst else 1)

    def _report(self, orgs: dict[str, Organisation]) -> None:
        for org in orgs.values():
            counts: dict[str, int] = {}
            for status in AccessCode.objects.filter(organisation=org).values_list("status", flat=True):
                counts[status] = counts.get(status, 0) + 1
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            locks = Lock.objects.filter(organisation=org).count()
            self.stdout.write(f"{org.name}: {locks} locks; codes: {summary or 'none'}")


def _done(code: AccessCode) -> bool:
    wanted = code.wanted_status
    final = {AccessCode.Status.FAILED, AccessCode.Status.EXPIRED}
    return not code.needs_modify and (code.status == wanted or code.status in final)


def _run_jobs() -> None:
    """Every queued job, as a worker would run it (a SimpleWorker: no fork, so it shares this process)."""
    queues = [django_rq.get_queue(name) for name in ("unlock", "codes", "maintenance", "sync", "media", "webhooks")]
    worker = SimpleWorker(queues, connection=queues[0].connection, serializer=JSONSerializer)
    worker.work(burst=True)
