"""The sizes of a synthetic district: Weicheng's own figures, Xingping's, and a small one for tests."""

from dataclasses import dataclass, fields


@dataclass(frozen=True)
class Preset:
    """How many of each record `seed scale` creates; the names of the district and its streets."""

    name: str
    district_code: str
    district_name: str
    bbox: tuple[float, float, float, float]  # west, south, east, north (degrees): the district's rectangle
    streets: tuple[str, ...]
    communities: int
    grids: int
    compounds: int
    buildings: int
    rooms: int
    households: int
    residents: int
    enterprises: int
    facilities: int
    units: int
    members: int
    events: int
    wishes: int

    def counts(self) -> dict[str, int]:
        """The record counts, by name (streets included)."""
        skip = {"name", "district_code", "district_name", "bbox", "streets"}
        return {"streets": len(self.streets)} | {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip
        }


# docs/domain.md#scale: Weicheng's figures, exactly; wishes are ours (two per checked-in member)
WEICHENG = Preset(
    name="weicheng",
    district_code="610404",
    district_name="渭城区",
    bbox=(108.62, 34.30, 108.95, 34.50),
    streets=("渭阳街道", "人民路街道", "新兴路街道", "文汇路街道", "中山街道", "渭城街道"),
    communities=57,
    grids=455,
    compounds=358,
    buildings=3_444,
    rooms=131_395,
    households=134_768,
    residents=296_166,
    enterprises=3_921,
    facilities=16_370,
    units=58,
    members=2_300,
    events=66_992,
    wishes=4_600,
)
# docs/domain.md#scale: 18 communities, 176 grids, 233 check-in party organisations, ~9,000 members; the rest is
# Weicheng's per grid (× 176/455), and two wishes per member as above
XINGPING = Preset(
    name="xingping",
    district_code="610481",
    district_name="兴平市",
    bbox=(108.36, 34.22, 108.62, 34.38),
    streets=("东城街道", "西城街道", "店张街道", "马嵬街道"),
    communities=18,
    grids=176,
    compounds=138,
    buildings=1_332,
    rooms=50_825,
    households=52_130,
    residents=114_560,
    enterprises=1_517,
    facilities=6_332,
    units=233,
    members=9_000,
    events=25_913,
    wishes=18_000,
)
# a couple of seconds, for tests
SMALL = Preset(
    name="small",
    district_code="610404",
    district_name="渭城区",
    bbox=(108.62, 34.30, 108.70, 34.36),
    streets=("渭阳街道", "人民路街道"),
    communities=4,
    grids=12,
    compounds=8,
    buildings=60,
    rooms=900,
    households=930,
    residents=2_000,
    enterprises=40,
    facilities=120,
    units=4,
    members=40,
    events=300,
    wishes=60,
)
PRESETS = {p.name: p for p in (WEICHENG, XINGPING, SMALL)}
