"""Sentences a worker writes down for a person to read later (why a calendar event was not booked, why an arrival is
at risk, the arguments of an alert), kept so that each reader gets them in their own language.

A worker has no reader: it stores `Words`, an English template marked with `gettext_noop` (so that makemessages
lists it) and its arguments, as JSON. They are put together when shown: `text` in the active language, `english`
for machines and records (the API, webhooks, audit), which speak English whoever reads them. An argument is a plain
value (a name, a reason from the cloud: shown as it is), `Words` itself (a service's refusal inside a sync's
problem, translated with it) or `Moment` (a day and time, named in the reader's language, in its own zone)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from locks.display import day_and_time

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Moment:
    """A moment shown as 'Mon 7 Jan 09:00' in `zone`, the day and month in the reader's language."""

    at: datetime
    zone: str

    def shown(self) -> str:
        return day_and_time(self.at.astimezone(ZoneInfo(self.zone)))


@dataclass(frozen=True)
class Words:
    template: str  # English, with %(name)s placeholders when there are arguments
    args: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return self._filled(gettext)

    @property
    def english(self) -> str:
        with translation.override("en"):  # the day and month names of a Moment too
            return self._filled(str)

    def _filled(self, translate: Callable[[str], str]) -> str:
        if not self.template:  # gettext("") is the catalogue's header, not nothing
            return ""
        if not self.args:
            return translate(self.template)
        args = {name: _shown(value, translate) for name, value in self.args.items()}
        try:
            return translate(self.template) % args
        except (KeyError, TypeError, ValueError):  # a translation that lost a placeholder: say it in English
            return self.template % args

    def to_json(self) -> dict[str, Any]:
        return {"t": self.template, "a": {name: _to_json(value) for name, value in self.args.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Words:
        return cls(data["t"], {name: _from_json(value) for name, value in (data.get("a") or {}).items()})


def in_english(job: Callable[P, R]) -> Callable[P, R]:
    """Run a worker's job in English (what it writes down is English Words, put in each reader's language when
    shown). A fresh override per call: `@translation.override` as a decorator shares one instance, and with it the
    language to restore, between threads."""

    @functools.wraps(job)
    def english(*args: P.args, **kwargs: P.kwargs) -> R:
        with translation.override("en"):
            return job(*args, **kwargs)

    return english


def of_error(error: ValidationError) -> Words:
    """A service's refusal as Words: its messages are English here (the workers that keep them run in English), and
    a message raised with `params` keeps them as arguments, so the reader's catalogue finds its template."""
    parts = [Words(str(item.message), {k: str(v) for k, v in (item.params or {}).items()}) for item in _items(error)]
    return joined(parts)


def joined(parts: Iterable[Words], separator: str = " ") -> Words:
    """Several sentences shown one after the other, each translated on its own."""
    parts = list(parts)
    if len(parts) == 1:
        return parts[0]
    names = [f"p{index}" for index in range(len(parts))]
    return Words(separator.join(f"%({name})s" for name in names), dict(zip(names, parts, strict=True)))


def columns(words: Words | None, length: int = 300) -> tuple[str, dict[str, Any] | None]:
    """Words as a row keeps them: the English (cut to its column's length), for records and for comparing, and the
    JSON the pages read them from; ("", None) for none."""
    return (words.english[:length], words.to_json()) if words is not None else ("", None)


def shown(value: dict[str, Any] | None, fallback: str) -> str:
    """What a row stored as Words JSON says in the active language; rows written before (None) say `fallback`."""
    return Words.from_json(value).text if value else fallback


def _items(error: ValidationError) -> list[ValidationError]:
    if hasattr(error, "error_dict"):
        return [item for items in error.error_dict.values() for item in items]
    return list(error.error_list)


def _shown(value: Any, translate: Callable[[str], str]) -> str:
    if isinstance(value, Words):
        return value._filled(translate)
    if isinstance(value, Moment):
        return value.shown()
    return str(value)


def _to_json(value: Any) -> Any:
    if isinstance(value, Words):
        return value.to_json()
    if isinstance(value, Moment):
        return {"at": value.at.isoformat(), "zone": value.zone}
    return str(value)


def _from_json(value: Any) -> Any:
    if isinstance(value, dict) and "t" in value:
        return Words.from_json(value)
    if isinstance(value, dict) and "at" in value:
        return Moment(datetime.fromisoformat(value["at"]), value["zone"])
    return value
