"""Record ids that arrive from outside (URLs, query strings, forms, JSON): one parser for every interface."""

import re

from werkzeug.routing import IntegerConverter

# ids are 32-bit integers on PostgreSQL (and SQLite refuses anything past 2**63 - 1): a bigger one names no row
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")  # ASCII only: str.isdigit() also admits "²", which int() refuses


def parse_id(value) -> int | None:
    """`value` as a row id (1 … MAX_ID), or None for anything that cannot name a row (text, 0, huge numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def parse_ids(values) -> list[int]:
    """The values that are ids (see `parse_id`), in order; the rest are dropped."""
    return [number for number in map(parse_id, values) if number is not None]


# far past any real list; keeps OFFSET inside the database's integer range
MAX_PAGE = 1_000_000


def parse_page(value) -> int | None:
    """A `?page=` value: the page number (1 … MAX_PAGE); 1 when absent or not a number (a nonsense filter is
    ignored, like the others); None for a number past either end (the caller answers 404)."""
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"-?[0-9]+", text):
        return 1
    number = parse_id(text)
    return number if number is not None and number <= MAX_PAGE else None


class IdConverter(IntegerConverter):
    """The `<int:…>` URL converter, bounded to ids: a bigger number matches no route (404), never a query."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
