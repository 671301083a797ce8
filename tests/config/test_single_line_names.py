"""Names are one line (#11 B.8): a line break or any other control character in a name, label, address or phone is
refused by every dashboard form and by the models' own validation, because names reach e-mail headers and files."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client

from tenants.models import SingleLineFields, has_control_characters
from tests.config.test_forms_fuzz import ENDPOINTS, succeeded, tenant  # noqa: F401  (tenant: a fixture)
from tests.locks.test_admin import Tenant

pytestmark = pytest.mark.django_db

HOSTILE = ["A\r\nBcc: thief@evil.example", "A\nB", "A\rB", "A\tB", "A\x0bB", "A\x1bB", "A\x85B", "A\u2028B"]
APP_MODELS = [m for label in ("tenants", "locks") for m in apps.get_app_config(label).get_models()]
CHECKED = [m for m in APP_MODELS if issubclass(m, SingleLineFields)]
# What people or the cloud name things with; a field named so is one line. LockEvent.actor_name is what the cloud
# reported at the time (kept as the record says, shown escaped on the activity page only).
NAMELIKE = ("name", "label", "address", "phone", "slug")
RECORDS_AS_REPORTED = {("LockEvent", "actor_name")}


def test_every_name_like_field_is_checked() -> None:
    missing = [
        f"{model.__name__}.{f.name}"
        for model in APP_MODELS
        for f in model._meta.fields
        if isinstance(f, models.CharField)
        and not f.choices
        and (f.name in NAMELIKE or f.name.endswith("_name"))
        and (model.__name__, f.name) not in RECORDS_AS_REPORTED
        and f.name not in getattr(model, "single_line_fields", ())
    ]
    assert not missing


@pytest.mark.parametrize(
    ("model", "field"),
    [(m, f) for m in CHECKED for f in m.single_line_fields],  # type: ignore[attr-defined]
    ids=lambda v: getattr(v, "__name__", v),
)
def test_the_model_refuses_control_characters(tenant: Tenant, model: Any, field: str) -> None:  # noqa: F811
    obj = tenant.objects[model]
    obj.full_clean()  # as built, it is valid
    for value in HOSTILE:
        setattr(obj, field, value)
        with pytest.raises(ValidationError) as refused:
            obj.full_clean()
        assert field in refused.value.message_dict, value


def stored_control_characters() -> list[str]:
    return [
        f"{model.__name__}.{field}={value!r}"
        for model in CHECKED
        for field in model.single_line_fields  # type: ignore[attr-defined]
        for value in model._base_manager.values_list(field, flat=True)
        if isinstance(value, str) and has_control_characters(value)
    ]


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_no_dashboard_form_stores_a_control_character(tenant: Tenant, name: str) -> None:  # noqa: F811
    endpoint = ENDPOINTS[name]
    client = Client(raise_request_exception=False)
    client.force_login(tenant.staff)
    for field in endpoint.valid(tenant):
        posted = endpoint.valid(tenant)
        posted[field] = [HOSTILE[0]] if field in endpoint.multi else HOSTILE[0]
        response = client.post(endpoint.url(tenant), posted)
        assert response.status_code < 500, (field, response.content[-2000:])
        assert not stored_control_characters(), (name, field)
