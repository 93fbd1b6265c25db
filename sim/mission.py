"""Stored missions and AP_Mission's order of execution (NAV commands, the DO commands after them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from pymavlink.dialects.v20 import ardupilotmega as mavlink

MISSION, FENCE, RALLY = 0, 1, 2
MAV_CMD_NAV_LAST = 95  # AP_Mission: ids up to this are navigation commands

NAV_COMMANDS = {
    mavlink.MAV_CMD_NAV_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_UNLIM,
    mavlink.MAV_CMD_NAV_LOITER_TIME,
    mavlink.MAV_CMD_NAV_RETURN_TO_LAUNCH,
    mavlink.MAV_CMD_NAV_LAND,
    mavlink.MAV_CMD_NAV_TAKEOFF,
    mavlink.MAV_CMD_NAV_DELAY,
}
DO_COMMANDS = {
    mavlink.MAV_CMD_DO_JUMP,
    mavlink.MAV_CMD_DO_CHANGE_SPEED,
    mavlink.MAV_CMD_DO_SET_HOME,
    mavlink.MAV_CMD_DO_SET_SERVO,
    mavlink.MAV_CMD_DO_SPRAYER,
    mavlink.MAV_CMD_CONDITION_DELAY,
    mavlink.MAV_CMD_DO_SET_ROI,
}
FENCE_COMMANDS = {
    mavlink.MAV_CMD_NAV_FENCE_RETURN_POINT,
    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_INCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_POLYGON_VERTEX_EXCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_INCLUSION,
    mavlink.MAV_CMD_NAV_FENCE_CIRCLE_EXCLUSION,
}
RALLY_COMMANDS = {mavlink.MAV_CMD_NAV_RALLY_POINT}
SUPPORTED = {MISSION: NAV_COMMANDS | DO_COMMANDS, FENCE: FENCE_COMMANDS, RALLY: RALLY_COMMANDS}
MAX_ITEMS = {MISSION: 724, FENCE: 84, RALLY: 20}  # what a small flight controller stores

# AP_Mission::stored_in_location: the commands stored with a position (and its frame).
STORED_IN_LOCATION = {
    mavlink.MAV_CMD_NAV_WAYPOINT,
    mavlink.MAV_CMD_NAV_LOITER_UNLIM,
    mavlink.MAV_CMD_NAV_LOITER_TURNS,
    mavlink.MAV_CMD_NAV_LOITER_TIME,
    mavlink.MAV_CMD_NAV_LAND,
    mavlink.MAV_CMD_NAV_TAKEOFF,
    mavlink.MAV_CMD_NAV_CONTINUE_AND_CHANGE_ALT,
    mavlink.MAV_CMD_NAV_LOITER_TO_ALT,
    mavlink.MAV_CMD_NAV_SPLINE_WAYPOINT,
    mavlink.MAV_CMD_NAV_GUIDED_ENABLE,
    mavlink.MAV_CMD_DO_SET_HOME,
    mavlink.MAV_CMD_DO_LAND_START,
    mavlink.MAV_CMD_DO_GO_AROUND,
    mavlink.MAV_CMD_DO_SET_ROI,
    mavlink.MAV_CMD_NAV_VTOL_TAKEOFF,
    mavlink.MAV_CMD_NAV_VTOL_LAND,
    mavlink.MAV_CMD_NAV_PAYLOAD_PLACE,
}

# Frames as ArduPilot accepts them and as it reports them back (the *_INT frames come back plain).
_FRAME_BACK = {
    mavlink.MAV_FRAME_GLOBAL: mavlink.MAV_FRAME_GLOBAL,
    mavlink.MAV_FRAME_GLOBAL_INT: mavlink.MAV_FRAME_GLOBAL,
    mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT,
    mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: mavlink.MAV_FRAME_GLOBAL_RELATIVE_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT: mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: mavlink.MAV_FRAME_GLOBAL_TERRAIN_ALT,
    mavlink.MAV_FRAME_MISSION: mavlink.MAV_FRAME_MISSION,
}


@dataclass(frozen=True)
class Item:
    """One stored mission/fence/rally item (lat/lon in 1e-7 degrees like MISSION_ITEM_INT)."""

    command: int
    frame: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    autocontinue: int = 1

    @property
    def lat(self) -> float:
        return self.x * 1e-7

    @property
    def lon(self) -> float:
        return self.y * 1e-7

    @property
    def has_location(self) -> bool:
        return self.x != 0 or self.y != 0

    @property
    def alt_is_amsl(self) -> bool:
        return self.frame in (mavlink.MAV_FRAME_GLOBAL, mavlink.MAV_FRAME_GLOBAL_INT)

    def reported(self, mission_type: int) -> Item:
        """The item as ArduCopter 4.7 gives it back on a download.

        AP_Mission keeps a frame and a position only for the commands in
        STORED_IN_LOCATION, reporting the frame without `_INT`; every other mission
        command (NAV_RETURN_TO_LAUNCH, the DO commands) comes back in frame 0 with
        x, y, z zero. Fence vertices come back in frame 0, rally points in the plain frame.
        """
        if mission_type == FENCE:
            return replace(self, frame=mavlink.MAV_FRAME_GLOBAL)
        if mission_type == MISSION and self.command not in STORED_IN_LOCATION:
            return replace(self, frame=mavlink.MAV_FRAME_GLOBAL, x=0, y=0, z=0.0)
        return replace(self, frame=_FRAME_BACK.get(self.frame, self.frame))


# What the stored mission holds at index 0 until home is known (a download shows home there).
HOME_PLACEHOLDER = Item(mavlink.MAV_CMD_NAV_WAYPOINT, mavlink.MAV_FRAME_GLOBAL)


def validate(item: Item, mission_type: int) -> int:
    """MAV_MISSION_RESULT for one uploaded item, the checks AP does in mavlink_int_to_mission_cmd."""
    if item.command not in SUPPORTED[mission_type]:
        return mavlink.MAV_MISSION_UNSUPPORTED
    if item.frame not in _FRAME_BACK:
        return mavlink.MAV_MISSION_UNSUPPORTED_FRAME
    needs_location = item.command in NAV_COMMANDS or mission_type != MISSION
    if needs_location and item.command != mavlink.MAV_CMD_NAV_DELAY:
        if not -900_000_000 <= item.x <= 900_000_000:
            return mavlink.MAV_MISSION_INVALID_PARAM5_X
        if not -1_800_000_000 <= item.y <= 1_800_000_000:
            return mavlink.MAV_MISSION_INVALID_PARAM6_Y
    if item.command == mavlink.MAV_CMD_DO_JUMP and item.param1 < 1:
        return mavlink.MAV_MISSION_INVALID_PARAM1
    return mavlink.MAV_MISSION_ACCEPTED


def is_nav(item: Item) -> bool:
    return item.command <= MAV_CMD_NAV_LAST


class MissionRunner:
    """AP_Mission: runs NAV commands one at a time and the DO commands after a NAV once it is reached.

    `items` is the stored mission with home at index 0. start_fn(index, item) starts a command,
    verify_fn(index, item) says whether it is done; complete_fn() is called at the end.
    """

    STOPPED, RUNNING, COMPLETE = "stopped", "running", "complete"

    def __init__(
        self,
        items: Callable[[], list[Item]],
        start_fn: Callable[[int, Item], None],
        verify_fn: Callable[[int, Item], bool],
        complete_fn: Callable[[], None],
    ) -> None:
        self._items = items
        self._start = start_fn
        self._verify = verify_fn
        self._complete = complete_fn
        self.state = self.STOPPED
        self.nav_index: int | None = None
        self.do_index: int | None = None
        self._nav_loaded = False
        self._do_loaded = False
        self._do_all_done = False
        self._jumps: dict[int, int] = {}

    # --- public -------------------------------------------------------------------
    def reset(self) -> None:
        """A new mission was stored: forget where we were (AP_Mission after a mission change)."""
        self.state = self.STOPPED
        self.nav_index = self.do_index = None
        self._nav_loaded = self._do_loaded = self._do_all_done = False
        self._jumps.clear()

    def start(self) -> None:
        self.state = self.RUNNING
        self._nav_loaded = self._do_loaded = self._do_all_done = False
        self.nav_index = self.do_index = None
        self._jumps.clear()
        if not self._advance_nav():
            self._finish()

    def resume(self) -> None:
        if self.state == self.COMPLETE or self.nav_index is None:
            self.start()
            return
        if self.state == self.STOPPED:
            self.state = self.RUNNING
            items = self._items()
            if self.nav_index >= len(items):
                self.start()
                return
            self._nav_loaded = True
            self._start(self.nav_index, items[self.nav_index])
            if self._do_loaded and self.do_index is not None and self.do_index < len(items):
                self._start(self.do_index, items[self.do_index])

    def start_or_resume(self, restart: bool) -> None:
        if restart:
            self.start()
        else:
            self.resume()

    def stop(self) -> None:
        if self.state == self.RUNNING:
            self.state = self.STOPPED

    def set_current(self, index: int) -> bool:
        """DO_SET_MISSION_CURRENT: jump to `index` now (running) or on the next resume (stopped)."""
        items = self._items()
        if index < 1 or index >= len(items):
            return False
        if self.state != self.RUNNING:
            self._nav_loaded = self._do_loaded = False
            self.do_index = None
            i = index
            while i < len(items):
                item = items[i]
                if is_nav(item):
                    self.nav_index = i
                    self._nav_loaded = True
                    break
                if not self._do_loaded and item.command != mavlink.MAV_CMD_DO_JUMP:
                    self.do_index = i
                    self._do_loaded = True
                i += 1
            if not self._nav_loaded:
                return False
            if self.state == self.COMPLETE:
                self.state = self.STOPPED
            return True
        self._nav_loaded = False
        if not self._advance_nav(index):
            self._finish()
        return True

    def starts_with_takeoff(self) -> bool:
        """AP_Mission::starts_with_takeoff_cmd from where the mission would resume."""
        i = 1 if (self.nav_index is None or self.state == self.COMPLETE) else self.nav_index
        for _ in range(16):
            nxt = self._next_cmd(i, count_jumps=False)
            if nxt is None:
                return False
            i, item = nxt
            if not is_nav(item):
                i += 1
                continue
            if item.command == mavlink.MAV_CMD_NAV_TAKEOFF:
                return True
            if item.command == mavlink.MAV_CMD_NAV_DELAY:
                i += 1
                continue
            return False
        return False

    def update(self) -> None:
        if self.state != self.RUNNING:
            return
        items = self._items()
        if not self._nav_loaded or self.nav_index is None:
            if not self._advance_nav():
                self._finish()
                return
        elif self._verify(self.nav_index, items[self.nav_index]):
            self._nav_loaded = False
            if not self._advance_nav():
                self._finish()
                return
        # AP does one DO step per 400 Hz loop; a whole run of DO commands fits in one tick here.
        for _ in range(64):
            if self.state != self.RUNNING:
                return
            if not self._do_loaded:
                if not self._advance_do():
                    return
            elif self.do_index is not None and self._verify(self.do_index, items[self.do_index]):
                self._do_loaded = False
            else:
                return

    # --- AP_Mission internals ----------------------------------------------------
    def _finish(self) -> None:
        self.state = self.COMPLETE
        self._complete()

    def _next_cmd(self, start: int, *, count_jumps: bool) -> tuple[int, Item] | None:
        items = self._items()
        i = start
        for _ in range(len(items) + 64):
            if i < 1 or i >= len(items):
                return None
            item = items[i]
            if item.command != mavlink.MAV_CMD_DO_JUMP:
                return i, item
            target, repeat = int(item.param1), int(item.param2)
            done = self._jumps.get(i, 0)
            if repeat == -1 or done < repeat:
                if count_jumps:
                    self._jumps[i] = done + 1
                i = target
            else:
                i += 1
        return None

    def _advance_nav(self, start: int | None = None) -> bool:
        if self.state != self.RUNNING:
            return False
        self._do_loaded = False
        self._do_all_done = False
        self.do_index = None
        if start is not None:
            i = start
        else:
            i = 1 if self.nav_index is None else self.nav_index + 1
        items = self._items()
        for _ in range(len(items) + 64):
            nxt = self._next_cmd(i, count_jumps=True)
            if nxt is None:
                return False
            i, item = nxt
            if is_nav(item):
                self.nav_index = i
                self._nav_loaded = True
                self._start(i, item)
                break
            if not self._do_loaded:
                self.do_index = i
                self._do_loaded = True
                self._start(i, item)
            i += 1
        else:
            return False
        if not self._do_loaded:
            self._do_all_done = True
        return True

    def _advance_do(self) -> bool:
        if self.state != self.RUNNING or self._do_all_done:
            return False
        if self.do_index is None:
            assert self.nav_index is not None  # only called while a nav command runs
            start = self.nav_index + 1
        else:
            start = self.do_index + 1
        nxt = self._next_cmd(start, count_jumps=False)
        if nxt is None or is_nav(nxt[1]):
            self._do_all_done = True
            return False
        self.do_index, item = nxt
        self._do_loaded = True
        self._start(self.do_index, item)
        return True
