"""The arrival chips say their state in words, and their colours reach WCAG's 4.5:1 against the page (read from
the stylesheets, so a colour changed there is checked here)."""

from __future__ import annotations

import re
from pathlib import Path

from django.template.loader import render_to_string

from bookings.selectors import ArrivalChip

STATIC = Path(__file__).resolve().parents[2] / "static" / "css"


def luminance(hex_colour: str) -> float:
    hex_colour = hex_colour.lstrip("#")
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_arrival_chip_colour_reaches_4_5_to_1() -> None:
    variables = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-fA-F]{3,6})", (STATIC / "app.css").read_text()))
    rules = re.findall(r"\.chip\.arrival-([a-z_]+) \{ color: var\(--([a-z]+)\); \}", (STATIC / "desk.css").read_text())
    assert {state for state, _ in rules} == {"ready", "at_risk", "fallback", "not_checked", "arrived"}
    for state, variable in rules:
        assert contrast(variables[variable], variables["bg"]) >= 4.5, state


def test_a_chip_is_words_and_its_reason() -> None:
    html = render_to_string("bookings/_arrival_chip.html", {"chip": ArrivalChip("at_risk", "At risk", "Door: no code")})
    assert '<span class="chip arrival-at_risk">At risk</span> <span class="reason">Door: no code</span>' in html
