"""ArduCopter flight modes (custom_mode numbers) and what each one allows."""

from __future__ import annotations

STABILIZE, ACRO, ALT_HOLD, AUTO, GUIDED, LOITER, RTL, CIRCLE, LAND, BRAKE = 0, 1, 2, 3, 4, 5, 6, 7, 9, 17

NAMES = {
    STABILIZE: "STABILIZE",
    ACRO: "ACRO",
    ALT_HOLD: "ALT_HOLD",
    AUTO: "AUTO",
    GUIDED: "GUIDED",
    LOITER: "LOITER",
    RTL: "RTL",
    CIRCLE: "CIRCLE",
    LAND: "LAND",
    BRAKE: "BRAKE",
}
BY_NAME = {v: k for k, v in NAMES.items()}

REQUIRES_POSITION = {AUTO, GUIDED, LOITER, RTL, CIRCLE, BRAKE}
ARMABLE = {STABILIZE, ACRO, ALT_HOLD, GUIDED, LOITER, CIRCLE}
HOLDS_POSITION = {LOITER, BRAKE, CIRCLE, ALT_HOLD}
