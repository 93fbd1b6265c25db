"""Spray outside a job of several plots: on the bunds and paths between them, or past the job's edge.

The ground between plots (fields/plots.py) is checked on shapes whose answer is known exactly;
the cooperative report of the sample province's Đại Từ paddies (six plots, bunds between them)
says how much of the spray outside the field landed on those bunds, in both languages.
"""

from __future__ import annotations

import re

import pytest
import shapely
from reports_support import cached_sample_db, vi_number

from agrodrone.cli import main
from fields import between_plots
from telemetry import open_db
from telemetry.reports.charts import job_geometry
from telemetry.reports.cooperative import _jobs


def test_a_bund_between_two_plots_is_between_them():
    west, east = shapely.box(0, 0, 40, 30), shapely.box(41, 0, 80, 30)  # a 1 m bund
    got = between_plots(shapely.MultiPolygon([west, east]))
    assert got.area == pytest.approx(30.0)
    assert got.symmetric_difference(shapely.box(40, 0, 41, 30)).area < 1e-6


def test_six_plots_in_two_rows_have_their_bunds_between_them_and_nothing_past_their_edge():
    plots = [shapely.box(x, y, x + 40, y + 36) for x in (0, 41, 82) for y in (0, 37)]
    got = between_plots(shapely.MultiPolygon(plots))
    # the bund between the rows (122 m x 1 m) and the two between the columns (73 m x 1 m each),
    # which cross it: 122 + 2 * 73 - 2 * 1
    assert got.area == pytest.approx(122 + 2 * 73 - 2)
    assert got.within(shapely.box(0, 0, 122, 73))


def test_one_plots_notch_and_a_wide_gap_are_not_between_plots():
    notched = shapely.box(0, 0, 40, 30).difference(shapely.box(18, 20, 20, 30))  # a 2 m bay, one plot
    assert between_plots(notched).is_empty
    apart = shapely.MultiPolygon([shapely.box(0, 0, 40, 30), shapely.box(45, 0, 80, 30)])  # a 5 m road
    assert between_plots(apart).is_empty
    assert between_plots(apart, max_gap_m=6.0).area == pytest.approx(150.0)


@pytest.fixture(scope="module")
def paddies(tmp_path_factory):
    """The sample province's record of the Đại Từ paddies, and its cooperative report in both languages."""
    province = cached_sample_db(tmp_path_factory)
    out = tmp_path_factory.mktemp("paddies-report")
    pages = {}
    for lang in ("vi", "en"):
        with pytest.raises(SystemExit) as exc:
            main(
                ["report", "--db", str(province), "--out", str(out / lang), "--period", "2026-Q3"]
                + ["--cooperative", "htx-dai-tu", "--lang", lang]
            )
        assert exc.value.code == 0
        pages[lang] = (out / lang / "report.html").read_text(encoding="utf-8")
    (job,) = _jobs(open_db(province), "htx-dai-tu", "2026-07-01", "2026-10-01")
    return job, pages


def test_the_paddies_report_says_how_much_of_the_spray_outside_landed_on_their_bunds(paddies):
    job, pages = paddies
    geo = job_geometry(job, job["_plan"], job["_boundary"])
    outside, between = geo.outside.area, geo.between.area
    # the synthetic copter's 7 m swaths along the rows reach over the bunds and past the outer edges
    assert outside == pytest.approx(job["outside_field_m2"], abs=0.5)
    assert 0 < between < outside
    # ... on the bunds: off every plot and inside the job's hull; what lies beyond the hull is past its edge
    assert shapely.intersection(geo.between, geo.boundary).area < 1e-3
    hull = shapely.convex_hull(geo.boundary)
    assert shapely.difference(geo.between, hull).area < 1e-3
    assert shapely.difference(geo.outside, hull).area > 0
    (vi,) = re.findall(r"\(trong đó ([\d.,]+) m² trên bờ, lối giữa các thửa\)", pages["vi"])
    assert vi_number(vi) == round(between)
    (en,) = re.findall(r"\(of which ([\d.,]+) m² on the bunds and paths between the plots\)", pages["en"])
    assert float(en.replace(",", "")) == round(between)


def test_a_field_of_one_plot_has_no_spray_between_plots(tmp_path_factory):
    province = cached_sample_db(tmp_path_factory)
    jobs = _jobs(open_db(province), "htx-che-tan-cuong", "2026-10-01", "2027-01-01")
    assert jobs
    for job in jobs:
        assert job_geometry(job, job["_plan"], job["_boundary"]).between.is_empty
