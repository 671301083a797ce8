"""The translation catalogues (locale/<language>/LC_MESSAGES/django.po) are whole and sound: each parses, has no
untranslated and no fuzzy entry, keeps the placeholders of its English text, and holds exactly the strings marked
in the source today (Django's makemessages, run on a copy of the source, is the judge of what is marked)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from config.catalogues import catalogues

ROOT = Path(__file__).resolve().parents[2]
# Every app of the project (a folder with apps.py: a new app is read without being listed here), the templates and
# manage.py, which makemessages needs to run.
SOURCE = sorted(path.parent.name for path in ROOT.glob("*/apps.py")) + ["config", "templates", "manage.py"]
TRANSLATED = sorted(code for code, _name in settings.LANGUAGES if code != "en")  # English is the source text
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|\{(\w*)\}")


def _key(entry: polib.POEntry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _placeholders(text: str) -> list[str]:
    return sorted(named or braced for named, braced in PLACEHOLDER.findall(text))


def _po(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def test_one_catalogue_per_language_but_english() -> None:
    assert [path.parts[-3] for path in catalogues()] == TRANSLATED


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_entry_is_translated_and_none_is_fuzzy(language: str) -> None:
    po = _po(language)
    assert po.untranslated_entries() == [], f"{language}: untranslated {[e.msgid for e in po.untranslated_entries()]}"
    assert po.fuzzy_entries() == [], f"{language}: fuzzy {[e.msgid for e in po.fuzzy_entries()]}"
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == language


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_match_the_english(language: str) -> None:
    wrong = []
    for entry in _po(language).translated_entries():
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        wanted = _placeholders(entry.msgid_plural or entry.msgid)
        wrong += [(entry.msgid, text) for text in translations if _placeholders(text) != wanted]
    assert wrong == []


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_plural_has_each_form_the_language_counts(language: str) -> None:
    """Spanish counts three forms (one, a million, the rest): an entry with two says "5 minutes" in English."""
    po = _po(language)
    forms = int(re.search(r"nplurals=(\d+)", po.metadata["Plural-Forms"]).group(1))  # type: ignore[union-attr]
    short = [e.msgid for e in po if e.msgid_plural and sorted(e.msgstr_plural) != list(range(forms))]
    empty = [e.msgid for e in po if e.msgid_plural and not all(e.msgstr_plural.values())]
    assert (short, empty) == ([], [])


def test_the_placeholder_check_can_fail() -> None:
    assert _placeholders("Welcome, %(name)s") != _placeholders("Bienvenue, %(nom)s")
    assert _placeholders("{guest} in {room}") != _placeholders("{guest}")


@pytest.fixture(scope="module")
def marked_in_source(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[str, str]]:
    """The strings marked for translation in the source, by makemessages run on a copy (so the real locale/ is
    never written to)."""
    if shutil.which("xgettext") is None:
        pytest.fail("xgettext (GNU gettext) is not installed: makemessages needs it to list the marked strings")
    copy = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "migrations", "locale")
    for name in SOURCE:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, copy / name, ignore=ignore)
        else:
            shutil.copy(ROOT / name, copy / name)
    (copy / "locale").mkdir()
    made = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "en", "--no-location", "--no-wrap"],
        cwd=copy, capture_output=True, text=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    return {_key(entry) for entry in polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalogue_has_exactly_the_marked_strings(language: str, marked_in_source: set[tuple[str, str]]) -> None:
    assert marked_in_source, "makemessages found no marked string at all"
    in_catalogue = {_key(entry) for entry in _po(language) if not entry.obsolete}
    assert sorted(marked_in_source - in_catalogue) == [], f"{language} lacks these: run makemessages (README)"
    assert sorted(in_catalogue - marked_in_source) == [], f"{language} has strings no longer marked: drop them"
