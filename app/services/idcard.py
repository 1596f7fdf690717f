"""Chinese resident ID numbers (GB 11643): checksum and the birth date they carry."""

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"


def check_char(first17: str) -> str:
    """The 18th character for the first 17 digits."""
    return CHECK_CHARS[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def make_id_number(area6: str, birth: date, sequence: int) -> str:
    """A well-formed ID number for an area, birth date and 3-digit sequence (odd = male)."""
    body = f"{area6}{birth:%Y%m%d}{sequence % 1000:03d}"
    return body + check_char(body)


def id_number_error(value: str) -> str | None:
    """None when `value` is a valid 18-character ID number, else a short English reason key."""
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] in "Xx"):
        return "format"
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "birth_date"
    if check_char(value[:17]) != value[17].upper():
        return "checksum"
    return None
