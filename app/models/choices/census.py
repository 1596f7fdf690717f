"""The census: care tiers, residents' particulars and tags, public facilities."""

from flask_babel import lazy_gettext as _l

from app.models.choices.base import Labelled

__all__ = [
    "CARE_TIER_LABELS",
    "FACILITY_CATEGORY_LABELS",
    "FACILITY_STATUS_LABELS",
    "GENDER_LABELS",
    "RESIDENCE_TYPE_LABELS",
    "RESIDENT_TAG_LABELS",
    "CareTier",
    "FacilityStatus",
    "Gender",
    "ResidenceType",
]


class CareTier(Labelled):
    ASSURED = "assured", _l("Assured (放心户)")
    WARM = "warm", _l("Warm-care (暖心户)")
    CLOSE = "close", _l("Close-care (连心户)")


CARE_TIER_LABELS = CareTier.labels()


class Gender(Labelled):
    MALE = "male", _l("Male")
    FEMALE = "female", _l("Female")


GENDER_LABELS = Gender.labels()


class ResidenceType(Labelled):
    REGISTERED = "registered", _l("Registered")
    FLOATING = "floating", _l("Floating")


RESIDENCE_TYPE_LABELS = ResidenceType.labels()

RESIDENT_TAG_LABELS = {
    "elderly_alone": _l("Elderly living alone"),
    "subsistence": _l("Subsistence allowance"),
    "disabled": _l("Disabled"),
    "veteran": _l("Veteran"),
    "left_behind_child": _l("Left-behind child"),
    "party_member": _l("Party member"),
    "focus": _l("Key person"),
}


class FacilityStatus(Labelled):
    NORMAL = "normal", _l("Normal")
    DAMAGED = "damaged", _l("Damaged")
    REMOVED = "removed", _l("Removed")


FACILITY_STATUS_LABELS = FacilityStatus.labels()

FACILITY_CATEGORY_LABELS = {
    "manhole": _l("Manhole cover"),
    "street_light": _l("Street light"),
    "hydrant": _l("Fire hydrant"),
    "camera": _l("Surveillance camera"),
    "trash_bin": _l("Trash bin"),
    "bus_stop": _l("Bus stop"),
    "charging_pile": _l("E-bike charging point"),
    "other": _l("Other"),
}
