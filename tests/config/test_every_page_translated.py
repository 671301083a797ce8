"""Languages (issue 16 item 2), on every page: each HTML page and htmx fragment an owner or a front desk reaches
(tests/config/test_url_walk.py's walk, with the organisation's own rows) holds no English sentence left over when
the browser asks for Dutch, German, Spanish or French.

Unmarked text is in no catalogue, so it is found by its words: a piece of visible text with an English word that
none of the four languages uses (the, and, with, this, your…) is English. Names the test's rows carry (a room, a
guest) do not trip it, nor text an element marks with a `lang` of its own (a guest's message in the guest's
language); the check is shown to find a sentence that is there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from bookings import arrival_links, guest_pass
from tenants.models import Guest, Membership, Property, Role, Stay, Unit
from tests.config.test_url_walk import Tenant, reachable, tenant_with_every_page
from tests.tenants.test_languages import TRANSLATED, visible_parts

pytestmark = pytest.mark.django_db

# English words that are no word of nl/de/es/fr ("is", "was", "of", "in", "an", "on" are, so they are not here).
ENGLISH_ONLY = frozenset(
    {
        *("the", "and", "with", "are", "this", "that", "your", "which", "will", "been", "has", "have", "from"),
        *("when", "its", "it", "for", "not", "by", "to", "you", "there", "yet", "only", "would", "could"),
        *("should", "being", "into", "than"),
    }
)
WORD = re.compile(r"\b[A-Za-z][a-z]*\b")  # words as sentences write them: not "IT" of a random key
# Quoted as the channels write it in their calendars (Airbnb's blocked dates): a name to recognise, not a sentence.
CHANNELS_OWN_WORDS = ("Not available",)


def english_sentences(html: str) -> list[str]:
    """The pieces of visible text with an English-only word."""
    found = []
    for part in visible_parts(html):
        for quoted in CHANNELS_OWN_WORDS:
            part = part.replace(quoted, "")
        words = {word.lower() for word in WORD.findall(part)}
        if len(words & ENGLISH_ONLY) >= 1:
            found.append(" ".join(part.split())[:160])
    return found


@pytest.fixture
def tenant(django_user_model: Any, settings: Any, tmp_path: Path) -> Tenant:
    return tenant_with_every_page(django_user_model, settings, tmp_path)


def test_the_check_finds_an_english_sentence() -> None:
    html = "<main><p>Welkom</p><p title='Open the door and wait'>Deur</p><p>The code is sent to the lock.</p></main>"
    assert english_sentences(html) == ["Open the door and wait", "The code is sent to the lock."]
    assert english_sentences("<p>Het slot is bij de receptie. Room 12, Ada Lovelace</p>") == []
    # A guest's message in English, shown on a Dutch page as the guest will read it, says so with its own lang.
    assert english_sentences('<p>Voorbeeld:</p><pre lang="en">Your <b>door</b> code for the room</pre><p>x</p>') == []


@pytest.mark.parametrize("role", [Role.OWNER, Role.FRONT_DESK])
def test_every_page_and_fragment_has_no_english_sentence(tenant: Tenant, role: str, django_user_model: Any) -> None:
    user = django_user_model.objects.create_user(f"lang-{role}", email=f"{role}@example.com", password="pw-lang-1")
    Membership.objects.create(user=user, organisation=tenant.org, role=role)
    left: list[str] = []
    checked = 0
    for language in TRANSLATED:
        pages, fragments = reachable(user, tenant, language)
        client = Client(headers={"accept-language": language})
        client.force_login(user)
        found = {url: client.get(url).content.decode() for url in pages} | fragments
        for url, html in found.items():
            left += [f"{language} {url}: {sentence}" for sentence in english_sentences(html)]
        checked += len(found)
    assert checked > (30 if role == Role.OWNER else 10) * len(TRANSLATED), checked
    assert left == [], "\n".join(left)


def test_the_signed_out_pages_have_no_english_sentence(tenant: Tenant) -> None:
    """The sign-in page, the admin's (ours), a guest's page and a unit's arrival page, with a wrong try on each
    form, as the browser's language asks (the guest page follows the guest's language: Dutch here)."""
    stay = tenant.objects[Stay]
    Guest.objects.filter(pk=stay.guest_id).update(language="")
    Property.objects.filter(pk=stay.unit.property_id).update(language="nl")
    guest_page = f"/g/{guest_pass.pass_for(stay).token}/"
    arrival_page = f"/u/{arrival_links.link_for(tenant.objects[Unit]).token}/"
    left = []
    for language in TRANSLATED:
        client = Client(headers={"accept-language": language})
        answers = [
            client.get("/accounts/login/"),
            client.post("/accounts/login/", {"username": "nobody", "password": "wrong-pw-1"}),
            client.get("/admin/login/"),
            client.get(arrival_page),
            client.post(arrival_page, {"digits": "0000"}),
        ]
        for answer in answers:
            assert answer.status_code == 200, (language, answer.request["PATH_INFO"], answer.status_code)
            path = answer.request["PATH_INFO"]
            left += [f"{language} {path}: {s}" for s in english_sentences(answer.content.decode())]
    dutch_guest_page = Client(headers={"accept-language": "fr"}).get(guest_page)
    assert dutch_guest_page.status_code == 200
    left += [f"guest page: {sentence}" for sentence in english_sentences(dutch_guest_page.content.decode())]
    assert left == [], "\n".join(left)


# --- the templates themselves: text a page shows only in some state (a warning, an empty list) ------------------

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NOT_TEXT = re.compile(
    r"{%\s*blocktranslate.*?endblocktranslate\s*%}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}"
    r"|{%.*?%}|{{.*?}}|<script\b.*?</script>|<style\b.*?</style>",
    re.S,
)


def unmarked_english(source: str) -> list[str]:
    """English text of a template that no translate tag holds, whatever state the page is in."""
    return english_sentences(NOT_TEXT.sub(" ", source))


def test_the_template_check_finds_unmarked_text_in_any_branch() -> None:
    source = '{% if late %}<p class="help">Sync is behind: {{ n }} locks have not been read.</p>{% else %}'
    assert unmarked_english(source + '{% translate "On time" %}{% endif %}') == [
        "Sync is behind: locks have not been read."
    ]
    assert unmarked_english("{% blocktranslate %}Sync is behind by {{ n }}.{% endblocktranslate %}") == []


def test_no_template_holds_unmarked_english() -> None:
    left = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "admin" in path.relative_to(TEMPLATES).parts:
            continue
        left += [f"{path.relative_to(TEMPLATES)}: {text}" for text in unmarked_english(path.read_text("utf-8"))]
    assert left == [], "\n".join(left)
