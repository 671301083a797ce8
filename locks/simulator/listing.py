"""Query parameters of the list endpoints: pages, time ranges, and the two spellings the spec mixes.

The spec's tables spell parameters snake_case while several of its sample requests use camelCase
(showMediaInfo, targetStandardDpCodes, pageNo …); both are accepted, snake_case first.
"""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

from locks.simulator.errors import TuyaError

T = TypeVar("T")
MAX_PAGE_SIZE = 100


def _camel(name: str) -> str:
    return re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)


def get(data: dict[str, Any], name: str) -> Any:
    """The value under snake_case `name` or its camelCase twin; None when absent or empty."""
    for key in (name, _camel(name)):
        value = data.get(key)
        if value is not None and value != "":
            return value
    return None


def present(data: dict[str, Any], name: str) -> bool:
    return name in data or _camel(name) in data


def integer(data: dict[str, Any], name: str, *, required: bool = True, default: int = 0) -> int:
    value = get(data, name)
    if value is None:
        if required:
            raise TuyaError(1100, name)
        return default
    if isinstance(value, bool):
        raise TuyaError(1104, name)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        raise TuyaError(1104, name)
    return int(text)


def boolean(data: dict[str, Any], name: str, *, default: bool = False) -> bool:
    value = get(data, name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if str(value).lower() in {"true", "1"}:
        return True
    if str(value).lower() in {"false", "0"}:
        return False
    raise TuyaError(1104, name)


def page(data: dict[str, Any]) -> tuple[int, int]:
    """page_no (from 1) and page_size (1..100), both required as every paged endpoint's table says."""
    page_no, page_size = integer(data, "page_no"), integer(data, "page_size")
    if page_no < 1:
        raise TuyaError(1101, "page_no starts from 1")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise TuyaError(1101, f"page_size must be 1..{MAX_PAGE_SIZE}")
    return page_no, page_size


def slice_page(rows: list[T], page_no: int, page_size: int) -> tuple[list[T], dict[str, Any]]:
    """The page and the spec's paging fields: total, total_pages, has_more."""
    start = (page_no - 1) * page_size
    chunk = rows[start : start + page_size]
    meta = {
        "total": len(rows),
        "total_pages": math.ceil(len(rows) / page_size),
        "has_more": start + page_size < len(rows),
    }
    return chunk, meta


def time_ms(data: dict[str, Any], name: str, *, required: bool = True) -> int:
    """A time bound in milliseconds. The v1.0 sample sends 10-digit seconds, v1.1 13-digit ms: both are read."""
    value = integer(data, name, required=required)
    if value < 0:
        raise TuyaError(1101, name)
    return value * 1000 if 0 < value < 100_000_000_000 else value
