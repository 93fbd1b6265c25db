"""A unit's targets (the share of linkage models and cooperatives applying digital spraying) and
the indicators computed for it (telemetry/reports/indicators.py fills them with SQL).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from fields.model import SAO_M2
from telemetry.errors import TelemetryError


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class Targets:
    """Shares (%) a unit must reach; `cooperatives_pct` None means no target for that indicator."""

    linkage_models_pct: float = 50.0
    cooperatives_pct: float | None = None

    @classmethod
    def parse(cls, items: list[str] | tuple[str, ...]) -> Targets:
        """From `linkage_models=50`, `cooperatives=70` (percent) settings."""
        values: dict[str, float] = {}
        for item in items:
            name, _eq, pct = item.partition("=")
            key = {
                "linkage_models": "linkage_models_pct",
                "linkage": "linkage_models_pct",
                "cooperatives": "cooperatives_pct",
                "coops": "cooperatives_pct",
            }.get(name.strip())
            if key is None:
                raise TelemetryError(f"unknown target {name.strip()!r} (use linkage_models=PCT or cooperatives=PCT)")
            try:
                v = float(pct)
            except ValueError:
                raise TelemetryError(f"target {name.strip()} needs a percentage, got {pct!r}") from None
            if not 0 <= v <= 100:
                raise TelemetryError(f"target {name.strip()} must be between 0 and 100, got {v:g}")
            values[key] = v
        return cls(**values)


@dataclass
class UnitIndicators:
    unit_id: str
    name: str
    level: str
    parent_id: str | None
    depth: int  # 0 for the unit asked for, 1 for its children ...
    cooperatives: int
    cooperatives_digital: int
    linkage_models: int  # cooperatives in a linkage model tied to a raw-material area
    linkage_models_digital: int
    jobs: int
    flights: int
    area_ha: float
    volume_l: float
    achieved_dose_l_ha: float | None  # litres / hectares over the records that have a dose
    target_dose_l_ha: float | None  # area-weighted
    jobs_off_dose: int  # records more than DOSE_TOLERANCE_PCT off their target
    drones: int
    cooperatives_pct: float | None = None
    linkage_models_pct: float | None = None
    dose_deviation_pct: float | None = None
    area_sao: float = 0.0
    meets_target: bool | None = None  # None: nothing to measure (no linkage model and no cooperative target)

    def finish(self, targets: Targets) -> UnitIndicators:
        self.cooperatives_pct = _pct(self.cooperatives_digital, self.cooperatives)
        self.linkage_models_pct = _pct(self.linkage_models_digital, self.linkage_models)
        self.area_sao = round(self.area_ha * 10_000 / SAO_M2, 1)
        if self.achieved_dose_l_ha is not None and self.target_dose_l_ha:
            self.dose_deviation_pct = round(
                (self.achieved_dose_l_ha - self.target_dose_l_ha) / self.target_dose_l_ha * 100, 1
            )
        checks = []
        if self.linkage_models_pct is not None:
            checks.append(self.linkage_models_pct >= targets.linkage_models_pct)
        if targets.cooperatives_pct is not None and self.cooperatives_pct is not None:
            checks.append(self.cooperatives_pct >= targets.cooperatives_pct)
        self.meets_target = all(checks) if checks else None
        return self

    def to_dict(self) -> dict:
        return asdict(self)
