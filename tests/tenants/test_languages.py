"""Languages (issue 16 item 2): the desk's today page, the welcome slip and the guest page carry no English left
over in nl/de/es/fr; the slip and the guest page follow the guest's language while the clerk's pages follow the
clerk's; the header's picker saves a choice that outlives the session and refuses a language not offered; without a
choice the browser's Accept-Language decides."""

# ruff: noqa: F811  (the fixtures imported below are parameters of the tests)
from __future__ import annotations

import re
import typing
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from api.schemas import GuestIn
from audit.models import AuditEvent
from bookings import guest_pass
from locks.models import AccessCode
from tenants import services
from tenants.models import Guest, Property, Stay, UserPreferences
from tests.locks.conftest import front_desk, guest, org, owner, owner_client, queues, unit  # noqa: F401
from tests.tenants.conftest import desk, lock, stay  # noqa: F401
from tests.tenants.test_desk_views import check_in_data

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TRANSLATED = ["nl", "de", "es", "fr"]
# English words a translation deliberately keeps: the same word in that language.
SAME_WORD = {
    "nl": {"Webhooks", "Manager", "Status", "E-mail", "e-mail"},
    "de": {"Webhooks", "Portfolio", "Organisation", "Manager", "Name", "PIN", "SMS", "Status", "Check-out"},
    "es": {"Webhooks", "PIN", "SMS"},
    "fr": {"Webhooks", "Organisation", "E-mail", "e-mail", "SMS", "Message", "PIN"},
}
# Names in the fixtures (a room, a hotel, a guest, a door): not words to translate.
PROPER_NOUNS = ["Room 12", "Canal Hotel", "Ada Lovelace", "Room door", "Europe/Amsterdam"]
# The status chips' words, marked in tenants/templatetags/desk.py (the today page and the stay page show them).
CHIP_WORDS = ["Requested…", "Sending to the lock…", "On the lock", "Failed", "Removing…"]
TRANSLATE = re.compile(r'{% translate "([^"]+)"')
BLOCK = re.compile(r"{% blocktranslate[^%]*%}(.*?){% (?:plural|endblocktranslate) %}", re.S)


def marked_strings(*names: str) -> set[str]:
    """The English text marked in these templates: whole msgids, and of a blocktranslate the literal pieces
    between its placeholders."""
    found: set[str] = set()
    for name in names:
        source = (TEMPLATES / name).read_text(encoding="utf-8")
        found |= set(TRANSLATE.findall(source))
        for body in BLOCK.findall(source):
            found |= {piece.strip(" .,:") for piece in re.split(r"{{[^}]*}}", body) if len(piece.strip(" .,:")) > 3}
    return found


class VisibleText(HTMLParser):
    """What a person reads or hears: text outside script/style, and the aria-label/title/placeholder/alt attributes.
    What an element below <html> marks with a `lang` of its own (a guest's message shown to the clerk, in the
    guest's language) goes to `other_language` instead of `parts`."""

    VOID = frozenset(
        ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
    )

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.other_language: list[str] = []
        self._hidden = 0
        self._open_in_other_language: list[str] = []

    def _into(self) -> list[str]:
        return self.other_language if self._open_in_other_language else self.parts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")
        if (self._open_in_other_language or (tag != "html" and dict(attrs).get("lang"))) and tag not in self.VOID:
            self._open_in_other_language.append(tag)
        self._into().extend(
            value for key, value in attrs if key in ("aria-label", "title", "placeholder", "alt") and value
        )

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")
        if self._open_in_other_language and tag not in self.VOID:
            self._open_in_other_language.pop()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._into().append(data)


def visible_parts(html: str) -> list[str]:
    """Each piece of text a person reads or hears, as the page holds it."""
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def visible(html: str) -> str:
    text = " ".join(" ".join(visible_parts(html)).split())
    for name in PROPER_NOUNS:
        text = text.replace(name, "")
    return text


def english_left(html: str, english: set[str], language: str) -> list[str]:
    text = visible(html)
    return sorted(
        phrase for phrase in english - SAME_WORD[language] if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)
    )


def test_the_check_finds_english_when_it_is_there(desk: Client, stay: Stay) -> None:
    english = marked_strings("tenants/today.html", "tenants/_today_table.html")
    html = desk.get(reverse("desk:today")).content.decode()  # no Accept-Language: English
    assert {"Front desk", "Arrivals today", "Door code"} <= set(english_left(html, english, "nl"))


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_desk_today_page_has_no_english_left(desk: Client, stay: Stay, language: str) -> None:
    english = marked_strings(
        "base.html", "tenants/today.html", "tenants/_today_table.html", "tenants/_code_status.html"
    ) | set(CHIP_WORDS)
    response = desk.get(reverse("desk:today"), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response["Content-Language"] == language
    assert f'<html lang="{language}">' in html
    assert "Ada Lovelace" in html  # the arrival's row is there, with its door code chip
    assert english_left(html, english, language) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_stay_page_has_no_english_left(desk: Client, stay: Stay, guest: Guest, language: str) -> None:
    guest.language = language  # the message previews are in the guest's language
    guest.save()
    english = marked_strings(
        "base.html", "tenants/stay.html", "tenants/_code_status.html", "bookings/_guest_link.html"
    ) | set(CHIP_WORDS + ["Arrived", "Not checked yet"])
    response = desk.get(reverse("desk:stay", args=[stay.pk]), HTTP_ACCEPT_LANGUAGE=language)
    html = response.content.decode()
    assert response["Content-Language"] == language
    assert "Ada Lovelace" in html
    left = english_left(html, english, language)
    assert left == [], left


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_stays_list_has_no_english_left(desk: Client, stay: Stay, language: str) -> None:
    english = marked_strings("base.html", "tenants/stays.html", "tenants/_code_status.html") | set(CHIP_WORDS)
    english |= {"Current", "Upcoming", "Past"}  # the filter's words (tenants.selectors.WHEN)
    found = desk.get(reverse("desk:stays"), {"when": "current"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert "Ada Lovelace" in found
    assert english_left(found, english, language) == []
    nothing = desk.get(reverse("desk:stays"), {"when": "past", "q": "zz"}, HTTP_ACCEPT_LANGUAGE=language)
    assert "No past stays matching" not in nothing.content.decode()
    assert english_left(nothing.content.decode(), english, language) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_slip_is_in_the_guest_language_with_no_english_left(
    desk: Client, stay: Stay, guest: Guest, language: str
) -> None:
    guest.language = language
    guest.save()
    english = marked_strings("base.html", "tenants/slip.html")
    html = desk.post(reverse("desk:slip", args=[stay.pk])).content.decode()
    assert stay.access_codes.get().pin in html
    assert english_left(html, english, language) == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_guest_page_is_in_the_guest_language_with_no_english_left(
    stay: Stay, guest: Guest, queues: None, language: str
) -> None:
    guest.language = language
    guest.save()
    AccessCode.objects.filter(stay=stay).update(status=AccessCode.Status.SET)
    english = marked_strings("bookings/guest_base.html", "bookings/guest.html")
    url = reverse("guest:stay", kwargs={"token": guest_pass.pass_for(stay).token})
    html = Client().get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()  # the guest's language, not the phone's
    assert stay.access_codes.get().pin in html
    assert english_left(html, english, language) == []


def test_a_guest_without_a_language_gets_the_property_one(stay: Stay, queues: None) -> None:
    prop = stay.unit.property
    prop.language = "fr"
    prop.save()
    html = Client().get(reverse("guest:stay", kwargs={"token": guest_pass.pass_for(stay).token})).content.decode()
    assert "Votre chambre" in html
    assert '<html lang="fr">' in html


def test_a_spanish_guest_gets_a_spanish_slip_while_the_clerk_pages_stay_english(
    desk: Client, stay: Stay, guest: Guest
) -> None:
    guest.language = "es"
    guest.save()
    slip = desk.post(reverse("desk:slip", args=[stay.pk])).content.decode()
    assert "Su código de la puerta" in slip
    assert "Válido desde" in slip
    assert re.search(r"(lunes|martes|miércoles|jueves|viernes|sábado|domingo) \d+ de \w+ de \d{4}", slip)
    today = desk.get(reverse("desk:today")).content.decode()
    assert "Arrivals today" in today
    assert "Llegadas" not in today


def test_the_picker_saves_the_choice_and_it_survives_a_new_sign_in(desk: Client, front_desk: Any) -> None:
    response = desk.post(reverse("choose-language"), {"language": "nl", "next": reverse("desk:today")})
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:today")
    assert UserPreferences.objects.get(user=front_desk).language == "nl"
    assert AuditEvent.objects.filter(action="user.language", actor=front_desk, summary="nl").exists()
    page = desk.get(reverse("desk:today"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Taal opgeslagen." in page
    assert "Receptie" in page  # the choice wins over the browser's
    desk.post(reverse("logout"))
    again = Client()
    signed_in = again.post(reverse("login"), {"username": "desk", "password": "pw-desk-1"})
    assert signed_in.status_code == 302
    page = again.get(reverse("desk:today"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Aankomsten vandaag" in page
    assert '<option value="nl" lang="nl" selected>' in page


def test_an_unknown_language_is_refused_and_changes_nothing(desk: Client, front_desk: Any) -> None:
    UserPreferences.objects.create(user=front_desk, language="fr")
    response = desk.post(reverse("choose-language"), {"language": "xx"}, follow=True)
    assert "That language is not offered here; nothing was changed." in response.content.decode()
    assert UserPreferences.objects.get(user=front_desk).language == "fr"
    assert not AuditEvent.objects.filter(action="user.language").exists()


def test_the_picker_sends_nobody_off_site(desk: Client) -> None:
    response = desk.post(reverse("choose-language"), {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_without_a_choice_the_browser_language_decides(desk: Client) -> None:
    assert "Rezeption" in desk.get(reverse("desk:today"), HTTP_ACCEPT_LANGUAGE="de,en;q=0.5").content.decode()
    assert "Front desk" in desk.get(reverse("desk:today"), HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()


def test_the_api_offers_exactly_the_site_languages() -> None:
    offered = set(typing.get_args(GuestIn.model_fields["language"].annotation)) - {""}
    assert offered == {code for code, _name in settings.LANGUAGES}


def test_a_guest_language_given_at_check_in_is_kept_and_a_later_one_replaces_it(stay: Stay) -> None:
    org = stay.unit.property.organisation
    details = services.GuestDetails("Lucía Pérez", "lucia@example.com", language="es")
    new = services.find_or_create_guest(organisation=org, details=details)
    assert new.language == "es"
    again = services.find_or_create_guest(
        organisation=org,
        details=services.GuestDetails("Lucía Pérez", "lucia@example.com", language="fr"),
        actor=new.created_by,
    )
    assert Guest.objects.get(pk=new.pk).language in {"es", "fr"}  # found only when the actor may see the guest
    assert again.language == "fr"


def test_the_desk_check_in_form_records_the_guest_language(desk: Client, lock: Any) -> None:
    data = check_in_data(lock.unit, guest_name="Lucía Pérez", guest_email="lucia@example.com", guest_language="es")
    response = desk.post(reverse("desk:today"), data)
    assert response.status_code == 302
    assert Guest.objects.get(name="Lucía Pérez").language == "es"


def test_a_property_is_given_its_guests_language_at_set_up(owner_client: Client) -> None:
    data = {"name": "Haus am See", "kind": "hotel", "time_zone": "Europe/Berlin", "address": "", "language": "de"}
    assert owner_client.post(reverse("setup:property-create"), data).status_code == 302
    assert Property.objects.get(name="Haus am See").language == "de"
    refused = owner_client.post(reverse("setup:property-create"), {**data, "name": "Elsewhere", "language": "xx"})
    assert refused.status_code == 400
    assert not Property.objects.filter(name="Elsewhere").exists()
    plain = owner_client.post(reverse("setup:property-create"), {**data, "name": "Plain", "language": ""})
    assert plain.status_code == 302
    assert Property.objects.get(name="Plain").language == settings.LANGUAGE_CODE
