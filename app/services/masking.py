"""Masking of personal data for display: phones, ID numbers and names."""


def mask_phone(phone: str | None) -> str:
    """138****1234: keep the first three and last four digits."""
    if not phone:
        return ""
    if len(phone) <= 7:
        return phone[:1] + "*" * (len(phone) - 1)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str | None) -> str:
    """610404********1234: keep the area code and the last four characters."""
    if not id_number:
        return ""
    if len(id_number) <= 10:
        return id_number[:2] + "*" * (len(id_number) - 2)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]


def mask_name(name: str | None) -> str:
    """张*: keep the family name (first character)."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


MASKERS = {"phone": mask_phone, "contact_phone": mask_phone, "id_number": mask_id_number}
