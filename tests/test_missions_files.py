"""QGroundControl .plan and QGC WPL 110 .waypoints files, written by the other tools."""

from __future__ import annotations

import json
import math

import pytest
from missions_plans import make_plan

import missions
from missions.items import deg_to_e7

# As QGroundControl 4.x saves a small mission with a fence and a rally point.
QGC_PLAN = """{
    "fileType": "Plan",
    "geoFence": {
        "circles": [
            {"circle": {"center": [21.7050123, 105.7320456], "radius": 12.5}, "inclusion": false, "version": 1}
        ],
        "polygons": [
            {
                "inclusion": true,
                "polygon": [[21.7040001, 105.7300002], [21.7040003, 105.7330004],
                            [21.7070005, 105.7330006], [21.7070007, 105.7300008]],
                "version": 1
            }
        ],
        "version": 2
    },
    "groundStation": "QGroundControl",
    "mission": {
        "cruiseSpeed": 15,
        "firmwareType": 3,
        "globalPlanAltitudeMode": 1,
        "hoverSpeed": 5,
        "items": [
            {"AMSLAltAboveTerrain": null, "Altitude": 3, "AltitudeMode": 1, "autoContinue": true,
             "command": 22, "doJumpId": 1, "frame": 3,
             "params": [0, 0, 0, null, 21.7046, 105.7312, 3], "type": "SimpleItem"},
            {"autoContinue": true, "command": 178, "doJumpId": 2, "frame": 2,
             "params": [1, 5, -1, 0, 0, 0, 0], "type": "SimpleItem"},
            {"AMSLAltAboveTerrain": null, "Altitude": 3, "AltitudeMode": 1, "autoContinue": true,
             "command": 16, "doJumpId": 3, "frame": 3,
             "params": [0, 0, 0, null, 21.7051234, 105.7315678, 3], "type": "SimpleItem"},
            {"autoContinue": true, "command": 216, "doJumpId": 4, "frame": 2,
             "params": [1, 0, 0, 0, 0, 0, 0], "type": "SimpleItem"},
            {"complexItemType": "survey", "type": "ComplexItem", "version": 5,
             "TransectStyleComplexItem": {"Items": [
                {"autoContinue": true, "command": 16, "doJumpId": 5, "frame": 3,
                 "params": [0, 0, 0, null, 21.7055, 105.7316, 3], "type": "SimpleItem"},
                {"autoContinue": true, "command": 16, "doJumpId": 6, "frame": 3,
                 "params": [0, 0, 0, null, 21.7055, 105.7319, 3], "type": "SimpleItem"}
             ]}},
            {"autoContinue": true, "command": 20, "doJumpId": 7, "frame": 2,
             "params": [0, 0, 0, 0, 0, 0, 0], "type": "SimpleItem"}
        ],
        "plannedHomePosition": [21.7046, 105.7312, 18.5],
        "vehicleType": 2,
        "version": 2
    },
    "rallyPoints": {"points": [[21.7046, 105.7312, 15], [21.7047, 105.7313, 20]], "version": 2},
    "version": 1
}
"""

# As Mission Planner saves it: tabs, 8 decimals for lat/lon, home on line 0 in frame 0, CRLF.
MISSION_PLANNER = (
    "QGC WPL 110\r\n"
    "0\t1\t0\t16\t0\t0\t0\t0\t21.70460000\t105.73120000\t18.500000\t1\r\n"
    "1\t0\t3\t22\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t3.000000\t1\r\n"
    "2\t0\t3\t16\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t21.70512345\t105.73156789\t3.000000\t1\r\n"
    "3\t0\t3\t216\t1.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
    "4\t0\t3\t16\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t21.70551234\t105.73160001\t3.000000\t1\r\n"
    "5\t0\t3\t216\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
    "6\t0\t3\t20\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.00000000\t0.000000\t1\r\n"
)

# As MAVProxy's `wp save` writes it (%f: 6 decimals) and `fence save` for a fence.
MAVPROXY = """QGC WPL 110
0	1	0	16	0.000000	0.000000	0.000000	0.000000	21.704600	105.731200	18.500000	1
1	0	3	22	0.000000	0.000000	0.000000	0.000000	0.000000	0.000000	3.000000	1
2	0	3	16	0.000000	0.000000	0.000000	0.000000	21.705123	105.731568	3.000000	1
"""
MAVPROXY_FENCE = """QGC WPL 110
0	0	0	5001	3.000000	0.000000	0.000000	0.000000	21.704000	105.730000	0.000000	1
1	0	0	5001	3.000000	0.000000	0.000000	0.000000	21.704000	105.733000	0.000000	1
2	0	0	5001	3.000000	0.000000	0.000000	0.000000	21.707000	105.733000	0.000000	1
"""


def test_read_qgroundcontrol_plan():
    pf = missions.read_plan(QGC_PLAN)
    m = pf.mission
    assert [it.command for it in m] == [16, 22, 178, 16, 216, 16, 16, 20]
    assert [it.seq for it in m] == list(range(8))
    assert (m[0].x, m[0].y, m[0].z) == (217046000, 1057312000, 18.5)  # plannedHomePosition
    assert m[1].frame == 6 and m[1].z == 3 and math.isnan(m[1].param4)  # null yaw -> NaN
    assert m[2].frame == 2 and m[2].params == (1, 5, -1, 0)
    assert (m[3].x, m[3].y) == (217051234, 1057315678)  # exact to 1e-7
    assert (m[6].x, m[6].y) == (217055000, 1057319000)  # from the survey's stored items
    inc = [it for it in pf.fence if it.command == 5001]
    assert [(it.x, it.y) for it in inc] == [
        (217040001, 1057300002),
        (217040003, 1057330004),
        (217070005, 1057330006),
        (217070007, 1057300008),
    ]
    assert all(it.param1 == 4 and it.mission_type == 1 for it in inc)
    circle = [it for it in pf.fence if it.command == 5004]
    assert len(circle) == 1 and circle[0].param1 == 12.5 and circle[0].x == 217050123
    assert [(r.x, r.y, r.z) for r in pf.rally] == [(217046000, 1057312000, 15), (217047000, 1057313000, 20)]
    assert all(r.mission_type == 2 for r in pf.rally)


def test_qgc_plan_round_trip_keeps_every_field():
    pf = missions.read_plan(QGC_PLAN)
    again = missions.read_plan(missions.write_plan(pf.mission, pf.fence, pf.rally))
    assert missions.compare(pf.mission, again.mission) == []
    assert (again.mission[0].x, again.mission[0].y) == (pf.mission[0].x, pf.mission[0].y)
    assert missions.compare(pf.fence, again.fence) == [] and missions.compare(pf.rally, again.rally) == []
    doc = json.loads(missions.write_plan(pf.mission, pf.fence, pf.rally))
    assert doc["mission"]["items"][0]["params"][3] is None  # NaN written as null, as QGC does
    assert doc["mission"]["items"][0]["frame"] == 3 and doc["mission"]["firmwareType"] == 3


def test_read_mission_planner_waypoints():
    items = missions.read_waypoints(MISSION_PLANNER)
    assert [it.command for it in items] == [16, 22, 16, 216, 16, 216, 20]
    assert (items[2].x, items[2].y) == (217051235, 1057315679)  # 8 decimals rounded half up to 1e-7
    assert items[4].x == deg_to_e7(21.70551234) and items[4].y == deg_to_e7(105.73160001)
    assert items[2].frame == 6 and items[0].frame == 5 and items[3].frame == 3
    assert items[3].param1 == 1 and items[5].param1 == 0 and items[0].current == 1


def test_read_mavproxy_waypoints_and_fence():
    items = missions.read_waypoints(MAVPROXY)
    assert [(it.x, it.y) for it in items[1:]] == [(0, 0), (217051230, 1057315680)]
    fence = missions.read_waypoints(MAVPROXY_FENCE)
    assert all(it.mission_type == 1 and it.param1 == 3 for it in fence)


def test_waypoints_round_trip_exact():
    ms = missions.build_mission(make_plan(), 1)
    back = missions.read_waypoints(missions.write_waypoints(ms.mission))
    assert missions.compare(ms.mission, back) == []
    assert [(a.x, a.y, a.z, a.frame) for a in back] == [(a.x, a.y, a.z, a.frame) for a in ms.mission]


@pytest.mark.parametrize(
    "text, words",
    [
        ("hello\n", "not a waypoint file"),
        ("QGC WPL 100\n", "only QGC WPL 110"),
        ("QGC WPL 110\n0\t1\t0\t16\t0\t0\n", "6 columns"),
        ("QGC WPL 110\n1\t1\t0\t16\t0\t0\t0\t0\t21\t105\t0\t1\n", "item number 1, expected 0"),
        ("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t95\t105\t0\t1\n", "out of range"),
        ("QGC WPL 110\n0\t1\t0\t16\t0\t0\t0\t0\t21\t105\t0\tinf\n", "line 2"),
        ("QGC WPL 110\n0\t1\t0\t99999999\t0\t0\t0\t0\t21\t105\t0\t1\n", "not a MAVLink value"),
    ],
)
def test_bad_waypoint_files(text, words):
    with pytest.raises(missions.MissionError, match=words):
        missions.read_waypoints(text, source="x.waypoints")


@pytest.mark.parametrize(
    "text, words",
    [
        ("{", "not JSON"),
        ('{"fileType": "Mission"}', "not a QGroundControl plan"),
        (
            '{"fileType": "Plan", "mission": {"items": [{"type": "SimpleItem", "command": 16, "params": [0]}]}}',
            "params has 1 values",
        ),
        (
            '{"fileType": "Plan", "mission": {"items": [{"type": "ComplexItem", "complexItemType": "survey"}]}}',
            "no stored items",
        ),
        ('{"fileType": "Plan", "mission": [1]}', "mission is not an object"),
        ('{"fileType": "Plan", "geoFence": [1]}', "geoFence is not an object"),
        ('{"fileType": "Plan", "mission": {"items": {"a": 1}}}', "items is not a list"),
        ('{"fileType": "Plan", "mission": {"items": [1]}}', "item 0: not an object"),
        ('{"fileType": "Plan", "mission": {"plannedHomePosition": {"lat": 1}}}', "plannedHomePosition is not"),
        ('{"fileType": "Plan", "mission": {"plannedHomePosition": [210, 105, 0]}}', "out of range"),
        (
            '{"fileType": "Plan", "mission": {"items": [{"type": "SimpleItem", "command": 16, '
            '"params": [0, 0, 0, 0, 1e300, 1, 5]}]}}',
            "out of range",
        ),
        ('{"fileType": "Plan", "rallyPoints": {"points": [[21, 500, 10]]}}', "out of range"),
    ],
)
def test_bad_plan_files(text, words):
    with pytest.raises(missions.MissionError, match=words):
        missions.read_plan(text)
