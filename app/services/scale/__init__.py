"""`seed scale`: a synthetic district at full size (Weicheng, Xingping or a small one), bulk-written, deterministic per seed."""

from app.services.scale.generate import ScaleError, analyze, generate, row_counts, total_rows
from app.services.scale.party import ADMIN_USERNAME, PASSWORD
from app.services.scale.presets import PRESETS, Preset

__all__ = [
    "ADMIN_USERNAME",
    "PASSWORD",
    "PRESETS",
    "Preset",
    "ScaleError",
    "analyze",
    "generate",
    "row_counts",
    "total_rows",
]
