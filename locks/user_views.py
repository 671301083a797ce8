"""The "People and methods" page of a lock: its users, their fingerprints and cards, enrollment with live progress.

Thin function views: parse, call one service (locks.lock_users, unlock_methods or user_sync), render. Every lookup
is scoped to the current membership (another organisation's id, or for a limited front desk another property's, is
a 404); only roles that manage the lock may act, others only look.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import HtmxHttpRequest
from locks import lock_users, pins, selectors, unlock_methods, user_sync
from locks.display import hours_text
from locks.forms import (
    WEEKDAYS,
    LocalDateTimeField,
    SingleLineInputs,
    apply_service_error,
    local_input,
    make_wall_clock_times_aware,
    minutes_of,
)
from locks.models import Lock, LockUser, UnlockMethod
from locks.views import lock_for
from tenants.context import membership_or_404
from tenants.models import Actor
from tenants.signals import client_ip

PAGE = "locks/lock_users.html"


def _lock_user(request: HttpRequest, lock_user_id: int) -> LockUser:
    return get_object_or_404(
        LockUser.objects.for_membership(membership_or_404(request)).select_related(
            "lock__unit__property", "lock__organisation"
        ),
        pk=lock_user_id,
    )


def _method(request: HttpRequest, method_id: int) -> UnlockMethod:
    return get_object_or_404(
        UnlockMethod.objects.for_membership(membership_or_404(request)).select_related(
            "lock__unit__property", "lock__organisation", "lock_user"
        ),
        pk=method_id,
    )


def _manager(request: HttpRequest, lock: Lock) -> None:
    if not pins.may_see_pins(request.user, lock):
        raise PermissionDenied("Your role may look at this lock's people but not change them.")


def _page_url(lock: Lock) -> str:
    return reverse("locks:lock-users", args=[lock.pk])


# --- forms ------------------------------------------------------------------------------------------------------


class AddUserForm(SingleLineInputs, django_forms.Form):
    name = django_forms.CharField(max_length=100, label=gettext_lazy("Name"))
    sex = django_forms.TypedChoiceField(
        choices=[(1, gettext_lazy("Male")), (2, gettext_lazy("Female"))],
        coerce=int,
        label=gettext_lazy("Sex"),
        help_text=gettext_lazy("The lock's cloud requires it."),
    )


class EditUserForm(SingleLineInputs, django_forms.Form):
    """A device user's name (Wi-Fi, Zigbee, Bluetooth), or a home user's role and validity (access control)."""

    name = django_forms.CharField(max_length=100, required=False, label=gettext_lazy("Name"))
    sex = django_forms.TypedChoiceField(
        choices=[(1, gettext_lazy("Male")), (2, gettext_lazy("Female"))],
        coerce=int,
        required=False,
        label=gettext_lazy("Sex"),
    )
    role = django_forms.ChoiceField(choices=lock_users.USER_ROLES, required=False, label=gettext_lazy("Role"))
    valid_from = LocalDateTimeField(
        required=False, label=gettext_lazy("Valid from"), help_text=gettext_lazy("Empty: always.")
    )
    valid_until = LocalDateTimeField(required=False, label=gettext_lazy("Valid until"))
    days = django_forms.TypedMultipleChoiceField(
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        label=gettext_lazy("Days"),
        widget=django_forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None: every day."),
    )
    start_time = django_forms.TimeField(
        required=False, label=gettext_lazy("Start time"), widget=django_forms.TimeInput(attrs={"type": "time"})
    )
    end_time = django_forms.TimeField(
        required=False,
        label=gettext_lazy("End time"),
        widget=django_forms.TimeInput(attrs={"type": "time"}),
        help_text=gettext_lazy("Empty: all day."),
    )

    def __init__(self, *args: Any, lock_user: LockUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lock_user = lock_user
        lock = lock_user.lock
        self.zone = lock.time_zone
        if lock.kind in lock_users.RESIDENTIAL:
            self.fields["name"].required = True
            self.fields["sex"].required = True
            keep = {"name", "sex"}
        else:
            keep = set()
            if lock_users.can(lock, "role") and lock_user.role != "owner":
                keep.add("role")
            if lock_users.can(lock, "schedule") and lock_user.role != "owner":
                keep |= {"valid_from", "valid_until", "days", "start_time", "end_time"}
        for name in list(self.fields):
            if name not in keep:
                del self.fields[name]

    @classmethod
    def initial_for(cls, lock_user: LockUser) -> dict[str, Any]:
        zone = lock_user.lock.time_zone
        initial: dict[str, Any] = {"name": lock_user.name, "sex": 1, "role": lock_user.role or "normal"}
        if lock_user.valid_from and lock_user.valid_until:
            initial["valid_from"] = local_input(lock_user.valid_from, zone)
            initial["valid_until"] = local_input(lock_user.valid_until, zone)
        if lock_user.schedule:
            window = lock_user.schedule[0]
            if 0 < len(window.get("days") or ()) < 7:  # none or all seven: every day
                initial["days"] = sorted(window["days"])
            if (window.get("start_minute"), window.get("end_minute")) != (0, 1440):
                initial["start_time"] = "{:02d}:{:02d}".format(*divmod(window["start_minute"], 60))
                initial["end_time"] = "{:02d}:{:02d}".format(*divmod(window["end_minute"] % 1440, 60))
        return initial

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "valid_from" in self.fields:
            make_wall_clock_times_aware(self, data, self.zone)
            start, end = data.get("start_time"), data.get("end_time")
            if (start is None) != (end is None):
                self.add_error(
                    "end_time" if end is None else "start_time", _("Give both times, or neither for all day.")
                )
        return data

    def save(self, *, actor: Actor, ip: str | None) -> LockUser | None:
        data, lock = self.cleaned_data, self.lock_user.lock
        kwargs: dict[str, Any] = {}
        try:
            if "name" in self.fields:
                kwargs.update(name=data["name"], sex=data["sex"])
            if "role" in self.fields:
                kwargs["role"] = data["role"]
            if "valid_from" in self.fields:
                start, end = data.get("start_time"), data.get("end_time")
                kwargs["validity"] = lock_users.Validity(
                    data.get("valid_from"),
                    data.get("valid_until"),
                    frozenset(data.get("days") or ()),
                    minutes_of(start) if start else 0,
                    (minutes_of(end) or 1440) if end else 1440,
                )
            if lock.kind not in lock_users.RESIDENTIAL and kwargs.get("role") == self.lock_user.role:
                kwargs.pop("role")
            return lock_users.modify_lock_user(self.lock_user, actor=actor, ip=ip, **kwargs)
        except ValidationError as refused:
            apply_service_error(self, refused)
            return None


class EnrollForm(SingleLineInputs, django_forms.Form):
    unlock_type = django_forms.ChoiceField(choices=lock_users.ENROLL_TYPES, label=gettext_lazy("Method"))


class RenameForm(SingleLineInputs, django_forms.Form):
    name = django_forms.CharField(max_length=100, label=gettext_lazy("Name"))


# --- the page -------------------------------------------------------------------------------------------------


def _context(request: HttpRequest, lock: Lock, **extra: Any) -> dict[str, Any]:
    may_manage = pins.may_see_pins(request.user, lock)
    people = selectors.people_on_lock(lock)
    for person in people:
        person.schedule_text = "; ".join(_window_text(w) for w in person.schedule)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "nav": "portfolio",
        "lock": lock,
        "time_zone": lock.time_zone,
        "people": people,
        "assignable": [u for u in people if u.removed_at is None and u.cloud_user_id],
        "unassigned": list(selectors.unassigned_methods(lock)),
        "may_manage": may_manage,
        "can": {op: lock_users.can(lock, op) for op in lock_users.CAN},
        "refusals": lock_users.REFUSALS,
        "enroll_types": lock_users.ENROLL_TYPES,
        "add_form": AddUserForm() if may_manage else None,
    }
    context.update(extra)
    return context


@login_required
@require_GET
def lock_users_page(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = lock_for(request, lock_id)
    template = f"{PAGE}#people" if request.htmx else PAGE
    return render(request, template, _context(request, lock))


@login_required
@require_POST
def lock_user_add(request: HttpRequest, lock_id: int) -> HttpResponse:
    lock = lock_for(request, lock_id)
    _manager(request, lock)
    form = AddUserForm(request.POST)
    if form.is_valid():
        try:
            user = lock_users.add_lock_user(
                lock=lock,
                name=form.cleaned_data["name"],
                sex=form.cleaned_data["sex"],
                actor=request.user,
                ip=client_ip(request),
            )
        except ValidationError as refused:
            apply_service_error(form, refused)
        else:
            messages.success(request, _("%(name)s is being added to the lock.") % {"name": user.name})
            return redirect(_page_url(lock))
    return render(request, PAGE, _context(request, lock, add_form=form), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def lock_user_edit(request: HtmxHttpRequest, lock_user_id: int) -> HttpResponse:
    lock_user = _lock_user(request, lock_user_id)
    lock = lock_user.lock
    _manager(request, lock)
    if request.method == "POST":
        form = EditUserForm(request.POST, lock_user=lock_user)
        if form.is_valid() and form.save(actor=request.user, ip=client_ip(request)) is not None:
            messages.success(request, _("The change to %(name)s is on its way to the lock.") % {"name": lock_user.name})
            return redirect(_page_url(lock))
        status = 400
    else:
        form = EditUserForm(lock_user=lock_user, initial=EditUserForm.initial_for(lock_user))
        status = 200
    context = _context(request, lock, edit_form=form, editing=lock_user)
    return render(request, f"{PAGE}#user-form" if request.htmx else PAGE, context, status=status)


@login_required
@require_POST
def lock_user_delete(request: HtmxHttpRequest, lock_user_id: int) -> HttpResponse:
    lock_user = _lock_user(request, lock_user_id)
    _manager(request, lock_user.lock)
    return _act(
        request,
        lock_user.lock,
        lambda: lock_users.delete_lock_user(lock_user, actor=request.user, ip=client_ip(request)),
        f"{lock_user.name} is being removed from the lock.",
    )


@login_required
@require_POST
def lock_user_enroll(request: HtmxHttpRequest, lock_user_id: int) -> HttpResponse:
    lock_user = _lock_user(request, lock_user_id)
    lock = lock_user.lock
    _manager(request, lock)
    form = EnrollForm(request.POST)
    if not form.is_valid():
        return _refused(request, lock, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return _act(
        request,
        lock,
        lambda: unlock_methods.start_enrollment(
            lock_user, unlock_type=form.cleaned_data["unlock_type"], actor=request.user, ip=client_ip(request)
        ),
        _("Enrollment started: present the finger or card at the lock now."),
    )


@login_required
@require_POST
def lock_users_sync(request: HtmxHttpRequest, lock_id: int) -> HttpResponse:
    lock = lock_for(request, lock_id)
    _manager(request, lock)
    return _act(
        request,
        lock,
        lambda: user_sync.request_sync(lock=lock, actor=request.user, ip=client_ip(request)),
        _("Reading the lock's people and methods from the cloud; reload in a moment."),
    )


def _act(request: HtmxHttpRequest, lock: Lock, action: Callable[[], object], done: str) -> HttpResponse:
    try:
        action()
    except ValidationError as refused:
        return _refused(request, lock, " ".join(refused.messages))
    if request.htmx:
        return render(request, f"{PAGE}#people", _context(request, lock, notice=done))
    messages.success(request, done)
    return redirect(_page_url(lock))


def _refused(request: HtmxHttpRequest, lock: Lock, error: str) -> HttpResponse:
    if request.htmx:
        return render(request, f"{PAGE}#people", _context(request, lock, error=error))
    messages.error(request, error)
    return redirect(_page_url(lock))


# --- one method ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def unlock_method_row(request: HttpRequest, method_id: int) -> HttpResponse:
    """One method's row: what the enrollment progress bar polls until it settles."""
    method = _method(request, method_id)
    lock = method.lock
    context = {
        "method": method,
        "lock": lock,
        "may_manage": pins.may_see_pins(request.user, lock),
        "can": {op: lock_users.can(lock, op) for op in lock_users.CAN},
    }
    return render(request, f"{PAGE}#method-row", context)


@login_required
@require_POST
def unlock_method_action(request: HtmxHttpRequest, method_id: int, action: str) -> HttpResponse:
    method = _method(request, method_id)
    lock = method.lock
    _manager(request, lock)
    who, ip = request.user, client_ip(request)
    if action == "cancel":
        act, done = (
            (lambda: unlock_methods.cancel_enrollment(method, actor=who, ip=ip)),
            _("Cancelling the enrollment."),
        )
    elif action == "rename":
        form = RenameForm(request.POST)
        if not form.is_valid():
            return _refused(request, lock, _("Give the method a name (at most 100 characters)."))
        name = form.cleaned_data["name"]
        act, done = (lambda: unlock_methods.rename_method(method, name=name, actor=who, ip=ip)), "Renamed."
    elif action in ("duress-on", "duress-off"):
        on = action == "duress-on"
        act = lambda: unlock_methods.set_duress(method, duress=on, actor=who, ip=ip)  # noqa: E731
        done = _("Duress alarm switched on.") if on else _("Duress alarm switched off.")
    elif action == "assign":
        target_id = _int(request.POST.get("lock_user"))
        target = selectors.person_on_lock(lock, target_id) if target_id is not None else None
        if target is None:
            return _refused(request, lock, _("Choose a person on this lock."))
        act, done = (
            (lambda: unlock_methods.assign_method(method, lock_user=target, actor=who, ip=ip)),
            _("Assigning to %(name)s.") % {"name": target.name},
        )
    elif action == "delete":
        act, done = (
            (lambda: unlock_methods.delete_method(method, actor=who, ip=ip)),
            _("Deleting the method from the lock."),
        )
    else:
        raise Http404("No such action.")
    return _act(request, lock, act, done)


def _window_text(window: dict[str, Any]) -> str:
    days = set(window.get("days") or range(7))
    names = _("every day") if len(days) == 7 else ", ".join(str(label) for day, label in WEEKDAYS if day in days)
    start, end = window.get("start_minute", 0), window.get("end_minute", 1440)
    hours = _("all day") if (start, end) == (0, 1440) else hours_text(start, end)
    return f"{names}, {hours}"


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
