"""Record ids that arrive from outside (URLs, query strings, forms, JSON): one parser for every interface."""
import re

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
