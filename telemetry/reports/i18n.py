"""Words, numbers and dates as the reader expects them: Vietnamese first, English on request.

Vietnamese writes 1.234,5 (dot for thousands, comma for decimals); both languages show
dates as dd/mm/yyyy, the form used on Vietnamese forms and by the users' cooperatives.
"""

from __future__ import annotations

from datetime import date, datetime

from fields.model import LOCAL_UNITS, local_unit
from telemetry.errors import TelemetryError
from telemetry.reports.indicators import Period

LANGS = ("vi", "en")

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "unit_title": "Báo cáo ứng dụng công nghệ số trong phun thuốc bảo vệ thực vật bằng thiết bị bay",
        "coop_title": "Nhật ký phun thuốc bảo vệ thực vật bằng thiết bị bay",
        "period": "Kỳ báo cáo",
        "unit": "Đơn vị hành chính",
        "level": "Cấp",
        "cooperative": "Hợp tác xã",
        "generated": "Lập ngày",
        "source": "Nguồn số liệu",
        "source_text": "{n} bản ghi phun số trong cơ sở dữ liệu {db}; mọi con số tính trực tiếp từ các bản ghi này.",
        "summary": "Tóm tắt",
        "targets": "Mục tiêu",
        "target_linkage": "Tỷ lệ mô hình liên kết gắn vùng nguyên liệu ứng dụng công nghệ số",
        "target_coops": "Tỷ lệ hợp tác xã có bản ghi phun số",
        "coops_digital": "HTX có bản ghi phun số",
        "linkage_digital": "Mô hình liên kết gắn vùng nguyên liệu ứng dụng CNS",
        "area": "Diện tích phun",
        "flights": "Chuyến bay",
        "jobs": "Lượt phun",
        "volume": "Lượng dung dịch",
        "dose": "Liều thực tế / kế hoạch",
        "dose_short": "Liều (L/ha)",
        "drones": "Thiết bị bay",
        "indicator_table": "Chỉ tiêu theo đơn vị",
        "status": "Đánh giá",
        "met": "Đạt",
        "below": "Chưa đạt",
        "na": "—",
        "no_target": "không có mô hình liên kết gắn vùng nguyên liệu",
        "by_month": "Theo tháng",
        "month": "Tháng",
        "by_drone": "Diện tích và chuyến bay theo thiết bị bay",
        "drone": "Thiết bị bay",
        "units_below": "Đơn vị chưa đạt mục tiêu",
        "none_below": "Không có đơn vị nào chưa đạt.",
        "coops_below": "Hợp tác xã chưa có bản ghi phun số trong kỳ",
        "coops_below_none": "Tất cả hợp tác xã đều có bản ghi phun số trong kỳ.",
        "raw_area": "Vùng nguyên liệu",
        "linkage": "Mô hình liên kết",
        "last_record": "Bản ghi gần nhất",
        "never": "chưa có",
        "yes": "có",
        "no": "không",
        "unplaced": "{n} bản ghi trong kỳ thuộc hợp tác xã chưa có trong danh mục đơn vị nên không được tính.",
        "chart_area": "Diện tích phun (ha)",
        "chart_flights": "Số chuyến bay",
        "chart_coops": "HTX có bản ghi",
        "jobs_table": "Các lượt phun",
        "date": "Ngày",
        "field": "Ruộng / thửa",
        "crop": "Cây trồng",
        "product": "Thuốc BVTV",
        "registration": "Số đăng ký",
        "coverage": "Độ phủ",
        "wind": "Gió",
        "wind_val": "tối đa {max} · trung bình {mean} m/s",
        "hash": "Mã băm bản ghi",
        "prev_hash": "Mã băm bản ghi trước",
        "record": "Bản ghi",
        "map": "Bản đồ",
        "operator": "Người điều khiển",
        "tank_mix": "Pha chế",
        "growth_stage": "Giai đoạn sinh trưởng",
        "start": "Bắt đầu",
        "end": "Kết thúc",
        "area_in_field": "Diện tích phun trong ruộng",
        "gaps": "Khoảng sót",
        "overlap": "Phun chồng",
        "outside": "Phun ra ngoài ruộng",
        "no_spray": "Phun vào vùng cấm",
        "sorties": "Chuyến phun / kế hoạch",
        "planned_area": "Diện tích cần phun theo kế hoạch",
        "dose_dev": "Chênh lệch liều",
        "legend_field": "Ranh giới ruộng",
        "legend_swaths": "Đường phun theo kế hoạch",
        "legend_applied": "Diện tích đã phun",
        "dose_map": "Bản đồ liều phun",
        "dose_map_scale": "Liều so với liều mục tiêu (%)",
        "dose_map_title": "Liều phun theo ô (1 vệt × khoảng 10 m): {n} ô, {low} ô thiếu quá 15 %, "
        "{high} ô thừa quá 15 %",
        "dose_cells": "Ô lệch liều quá 15 %",
        "dose_cells_val": "{off} / {n} ô: {overlap} ô do kế hoạch phun chồng, {gap} ô do kế hoạch bỏ sót một phần ô, "
        "{switch} ô nơi bơm tắt rồi bật lại giữa vệt, {none} ô chưa rõ lý do",
        "legend_gaps": "Khoảng sót",
        "legend_outside": "Phun ra ngoài ruộng",
        "legend_between": "Phun lên bờ, lối giữa các thửa",
        "outside_between_val": "(trong đó {m2} m² trên bờ, lối giữa các thửa)",
        "legend_keepout": "Vùng cấm phun (kể cả vùng đệm)",
        "legend_in_keepout": "Phun vào vùng cấm",
        "chain": "Chuỗi bản ghi",
        "chain_ok": "toàn vẹn ({n} bản ghi, mã băm khớp)",
        "chain_bad": "CÓ DẤU HIỆU SỬA/XÓA: {problems}",
        "metres": "m",
        "off_dose": "lệch liều > {tol} %",
        "unit_path": "Địa bàn",
        "members": "Thành viên",
        "none": "không có",
        "agl_title": "Độ cao bay so với mặt đất",
        "agl_target": "Độ cao phun mục tiêu",
        "agl_within": "Thời gian phun trong khoảng ±1 m",
        "agl_max_error": "Sai lệch lớn nhất khi phun",
        "agl_transit_min": "Độ cao thấp nhất khi bay chuyển",
        "agl_home": "Mốc độ cao",
        "agl_home_home": "điểm cất cánh (HOME_POSITION)",
        "agl_home_plan": "điểm nạp thuốc trong kế hoạch",
        "agl_reported": "Theo thiết bị bay (TERRAIN_REPORT)",
        "agl_reported_val": "{within} thời gian phun trong khoảng ±1 m, sai lệch lớn nhất {error} m",
        "agl_swath": "Vệt phun",
        "agl_min": "Thấp nhất (m)",
        "agl_median": "Trung vị (m)",
        "agl_max": "Cao nhất (m)",
        "agl_err": "Sai lệch lớn nhất (m)",
        "agl_rep_median": "Trung vị theo thiết bị bay (m)",
        "agl_chart": "Biểu đồ độ cao so với mặt đất",
        "agl_chart_title": "Độ cao so với mặt đất khi phun (mục tiêu {target} m ± 1 m)",
        "agl_chart_x": "Thời gian phun (s)",
        "agl_chart_y": "Độ cao so với mặt đất (m)",
        "agl_chart_dem": "Theo vị trí và mô hình địa hình",
        "agl_chart_reported": "Theo thiết bị bay",
        "agl_band": "Khoảng mục tiêu ±1 m",
        "fleet_title": "Các thiết bị bay cùng phun lượt này ({n} thiết bị)",
        "fleet_drone_n": "Thiết bị bay {n}",
        "fleet_sysid": "Mã hệ thống MAVLink",
        "fleet_area": "Diện tích (ha)",
        "fleet_volume": "Lượng dung dịch (L)",
        "fleet_flight_min": "Thời gian bay (phút)",
        "fleet_overlap": "Phun chồng giữa các thiết bị bay",
        "fleet_overlap_note": "(diện tích được hai thiết bị bay trở lên phun; đã tính trong diện tích phun chồng)",
    },
    "en": {
        "unit_title": "Digital technology in drone crop spraying: indicators report",
        "coop_title": "Drone spray log",
        "period": "Reporting period",
        "unit": "Administrative unit",
        "level": "Level",
        "cooperative": "Cooperative",
        "generated": "Generated",
        "source": "Source",
        "source_text": "{n} digital spray records in database {db}; every number is computed from these records.",
        "summary": "Summary",
        "targets": "Targets",
        "target_linkage": "Share of raw-material linkage models applying digital technology",
        "target_coops": "Share of cooperatives with digital spray records",
        "coops_digital": "Cooperatives with digital spray records",
        "linkage_digital": "Raw-material linkage models applying digital technology",
        "area": "Area sprayed",
        "flights": "Flights",
        "jobs": "Jobs",
        "volume": "Volume applied",
        "dose": "Dose achieved / target",
        "dose_short": "Dose (L/ha)",
        "drones": "Drones",
        "indicator_table": "Indicators by unit",
        "status": "Status",
        "met": "Met",
        "below": "Below target",
        "na": "—",
        "no_target": "no raw-material linkage model",
        "by_month": "By month",
        "month": "Month",
        "by_drone": "Hectares and flights by drone",
        "drone": "Drone",
        "units_below": "Units below target",
        "none_below": "No unit is below target.",
        "coops_below": "Cooperatives without a digital spray record in the period",
        "coops_below_none": "Every cooperative has a digital spray record in the period.",
        "raw_area": "Raw-material area",
        "linkage": "Linkage model",
        "last_record": "Latest record",
        "never": "none yet",
        "yes": "yes",
        "no": "no",
        "unplaced": "{n} record(s) in the period belong to cooperatives missing from the unit registry "
        "and are not counted.",
        "chart_area": "Area sprayed (ha)",
        "chart_flights": "Flights",
        "chart_coops": "Cooperatives with records",
        "jobs_table": "Jobs",
        "date": "Date",
        "field": "Field",
        "crop": "Crop",
        "product": "Product",
        "registration": "Registration no.",
        "coverage": "Coverage",
        "wind": "Wind",
        "wind_val": "max {max} · mean {mean} m/s",
        "hash": "Record hash",
        "prev_hash": "Previous record hash",
        "record": "Record",
        "map": "Map",
        "operator": "Operator",
        "tank_mix": "Tank mix",
        "growth_stage": "Growth stage",
        "start": "Start",
        "end": "End",
        "area_in_field": "Sprayed inside the field",
        "gaps": "Gaps",
        "overlap": "Overlap",
        "outside": "Spray outside the field",
        "no_spray": "Spray in no-spray zones",
        "sorties": "Sorties flown / planned",
        "planned_area": "Planned sprayable area",
        "dose_dev": "Dose deviation",
        "legend_field": "Field boundary",
        "legend_swaths": "Planned swaths",
        "legend_applied": "As-applied area",
        "dose_map": "Dose map",
        "dose_map_scale": "Dose against the target (%)",
        "dose_map_title": "Dose per cell (1 swath × about 10 m): {n} cells, {low} more than 15 % under, "
        "{high} more than 15 % over",
        "dose_cells": "Cells more than 15 % off the dose",
        "dose_cells_val": "{off} of {n} cells: {overlap} where the plan sprays twice, {gap} where the plan leaves part "
        "unsprayed, {switch} where the pump stopped and started mid-swath, {none} for no known reason",
        "legend_gaps": "Gaps",
        "legend_outside": "Spray outside the field",
        "legend_between": "Spray on the bunds and paths between the plots",
        "outside_between_val": "(of which {m2} m² on the bunds and paths between the plots)",
        "legend_keepout": "No-spray zones (with buffers)",
        "legend_in_keepout": "Spray in no-spray zones",
        "chain": "Record chain",
        "chain_ok": "intact ({n} records, hashes match)",
        "chain_bad": "EDITED OR DELETED RECORDS: {problems}",
        "metres": "m",
        "off_dose": "dose off by > {tol} %",
        "unit_path": "Location",
        "members": "Members",
        "none": "none",
        "agl_title": "Height above ground",
        "agl_target": "Target spray height",
        "agl_within": "Spraying time within ±1 m",
        "agl_max_error": "Largest deviation while spraying",
        "agl_transit_min": "Lowest height in transit",
        "agl_home": "Height reference",
        "agl_home_home": "take-off point (HOME_POSITION)",
        "agl_home_plan": "reload point in the plan",
        "agl_reported": "As the drone reported (TERRAIN_REPORT)",
        "agl_reported_val": "{within} of spraying time within ±1 m, largest deviation {error} m",
        "agl_swath": "Swath",
        "agl_min": "Lowest (m)",
        "agl_median": "Median (m)",
        "agl_max": "Highest (m)",
        "agl_err": "Largest deviation (m)",
        "agl_rep_median": "Median, drone's own (m)",
        "agl_chart": "Height above ground chart",
        "agl_chart_title": "Height above ground while spraying (target {target} m ± 1 m)",
        "agl_chart_x": "Spraying time (s)",
        "agl_chart_y": "Height above ground (m)",
        "agl_chart_dem": "From position and DEM",
        "agl_chart_reported": "As the drone reported",
        "agl_band": "Target ±1 m",
        "fleet_title": "Drones on this job ({n})",
        "fleet_drone_n": "Drone {n}",
        "fleet_sysid": "MAVLink system id",
        "fleet_area": "Area (ha)",
        "fleet_volume": "Volume (L)",
        "fleet_flight_min": "Flight time (min)",
        "fleet_overlap": "Overlap between drones",
        "fleet_overlap_note": "(area sprayed by two drones or more; included in the job's overlap)",
    },
}

LEVELS = {
    "vi": {
        "province": "Tỉnh",
        "district": "Huyện",
        "commune": "Xã",
        "ward": "Phường",
        "town": "Thị trấn",
        "city": "Thành phố",
    },
    "en": {
        "province": "Province",
        "district": "District",
        "commune": "Commune",
        "ward": "Ward",
        "town": "Town",
        "city": "City",
    },
}
CROPS = {
    "vi": {
        "rice": "lúa",
        "tea": "chè",
        "maize": "ngô",
        "corn": "ngô",
        "coffee": "cà phê",
        "vegetables": "rau",
        "fruit": "cây ăn quả",
        "sugarcane": "mía",
        "cassava": "sắn",
    }
}
_TYPED_NAMES = {"tp", "tx", "tt", "q", "p", "quận", "phường", "huyện", "xã", "tỉnh"}
MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
ROMAN = ("I", "II", "III", "IV")


class Lang:
    """Formatting for one language."""

    def __init__(self, code: str, sao: str = "bac") -> None:
        if code not in LANGS:
            raise TelemetryError(f"unknown language {code!r} (use vi or en)")
        if sao not in LOCAL_UNITS:
            raise TelemetryError(f"unknown local unit {sao!r} (use {', '.join(LOCAL_UNITS)})")
        self.code = code
        self.t = TEXT[code]
        self.sao_m2, self.sao_word = local_unit(sao)

    @property
    def sao_header(self) -> str:
        """The local unit's column header, with its size: "sào (360 m²)", "công (1.000 m²)"."""
        return f"{self.sao_word} ({self.num(self.sao_m2, 0)} m²)"

    def sao(self, ha: float | None) -> str:
        """Hectares in the chosen local unit, rounded to whole units."""
        return "—" if ha is None else self.num(ha * 10_000 / self.sao_m2, 0)

    def __getitem__(self, key: str) -> str:
        return self.t[key]

    def num(self, value: float | int | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        text = f"{value:,.{digits}f}"
        if self.code == "vi":
            text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
        return text

    def pct(self, value: float | None, digits: int = 1) -> str:
        return "—" if value is None else f"{self.num(value, digits)} %"

    def signed_pct(self, value: float | None, digits: int = 1) -> str:
        """+2,3 % / -0,4 % / 0,0 % (never -0,0)."""
        if value is None:
            return "—"
        value = round(value, digits) + 0.0
        return ("+" if value > 0 else "") + self.pct(value, digits)

    def date(self, value: str | date | datetime | None) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
        return value.strftime("%d/%m/%Y")

    def datetime(self, value: str | None) -> str:
        """A record's local time with its UTC offset, as it was on the ground."""
        if not value:
            return "—"
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
        off = t.strftime("%z")
        return t.strftime("%d/%m/%Y %H:%M") + (f" (UTC{off[:3]}:{off[3:]})" if off else "")

    def month(self, ym: str) -> str:
        y, m = ym.split("-")
        return f"{m}/{y}"

    def level(self, level: str | None) -> str:
        return LEVELS[self.code].get(level or "", level or "")

    def unit_name(self, level: str | None, name: str) -> str:
        """`Huyện Phú Lương`, but `TP Thái Nguyên` as it is (the name already says what it is)."""
        first = name.split(" ", 1)[0].rstrip(".").lower()
        if first in _TYPED_NAMES or name.lower().startswith(("thành phố", "thị xã", "thị trấn")):
            return name
        return f"{self.level(level)} {name}".strip()

    def crop(self, crop: str | None) -> str:
        return CROPS.get(self.code, {}).get((crop or "").lower(), crop or "—")

    def flag(self, value: bool) -> str:
        return self.t["yes"] if value else self.t["no"]

    def period(self, p: Period) -> str:
        y = p.start.year
        if self.code == "vi":
            if p.kind == "year":
                return f"Năm {y}"
            if p.kind == "quarter":
                return f"Quý {ROMAN[(p.start.month - 1) // 3]}/{y} ({self.date(p.start)} – {self.date(p.end)})"
            if p.kind == "month":
                return f"Tháng {p.start.month:02d}/{y}"
            return f"Từ {self.date(p.start)} đến {self.date(p.end)}"
        if p.kind == "year":
            return f"Year {y}"
        if p.kind == "quarter":
            return f"Q{(p.start.month - 1) // 3 + 1} {y} ({self.date(p.start)} – {self.date(p.end)})"
        if p.kind == "month":
            return f"{MONTHS_EN[p.start.month - 1]} {y}"
        return f"{self.date(p.start)} – {self.date(p.end)}"

    def area(self, ha: float | None) -> str:
        """Hectares and the local unit together, as the farmers count."""
        if ha is None:
            return "—"
        return f"{self.num(ha, 2)} ha ({self.sao(ha)} {self.sao_word})"
