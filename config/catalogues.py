"""Compile the translation catalogues, locale/<language>/LC_MESSAGES/django.po → django.mo, with polib (pure
Python), so that neither a developer's machine nor a server needs GNU gettext. dev.py runs it before the app and
the tests; a deployment runs `python -m config.catalogues` next to collectstatic. The .mo files are not committed."""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def catalogues(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    return sorted(locale_dir.glob("*/LC_MESSAGES/django.po"))


def compile_all(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write each catalogue's .mo next to it when the .po is newer (or the .mo missing); return the .po files."""
    found = catalogues(locale_dir)
    for po_path in found:
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
    return found


if __name__ == "__main__":
    compiled = compile_all(Path(sys.argv[1]) if len(sys.argv) > 1 else LOCALE_DIR)
    print(f"{len(compiled)} translation catalogues compiled.")
