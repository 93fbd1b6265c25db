"""fields.load on real files in every supported format and CRS, written by the tests.

The reference is the bundled tea-hill sample (WGS84 GeoJSON). Each test writes the same
boundary, hole and zones in another format or CRS, loads it, and compares the result in
the local UTM frame vertex by vertex, so a wrong axis order, datum shift or dropped
hole shows up as metres, not as a rounding difference.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry import mapping

import fields
from fields.frame import transform_geometry

TEA = "tan-cuong-tea.geojson"
RICE = "co-lung-rice-block.geojson"


@pytest.fixture(scope="module")
def tea(request) -> fields.Field:
    return fields.load(Path(request.config.rootpath) / "fields" / "samples" / TEA)[0]


def _tea_wgs84(tea: fields.Field):
    return tea.frame.geom_to_wgs84(tea.boundary)


def _max_vertex_gap(a, b) -> float:
    """Largest distance from a vertex of `a` to the boundary of `b` (metres), both ways."""
    pa, pb = shapely.points(shapely.get_coordinates(a)), shapely.points(shapely.get_coordinates(b))
    return float(max(shapely.distance(pa, b.boundary).max(), shapely.distance(pb, a.boundary).max()))


def _write_geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _feature(geom, **props) -> dict:
    return {"type": "Feature", "properties": props, "geometry": mapping(geom)}


# --- the bundled samples -----------------------------------------------------------


def test_rice_block_sample(samples):
    (rice,) = fields.load(samples / RICE)
    assert rice.id == "co-lung-rice-block"
    assert rice.area_ha == pytest.approx(7.9, abs=0.05)
    assert len(rice.boundary.interiors) == 2  # pond and graves are holes
    assert [z.id for z in rice.zones] == ["co-lung-canal"]
    assert rice.zones[0].buffer_m == 5
    assert rice.sprayable_ha < rice.area_ha - 0.1
    assert rice.area_sao == pytest.approx(rice.area_m2 / 360)
    assert rice.utm_epsg == 32648
    assert rice.properties["eppo"] == "ORYSA"
    assert rice.properties["province"] == "Thái Nguyên"
    assert rice.properties["commune"] == "Cổ Lũng"


def test_tea_hill_sample(tea):
    assert tea.area_ha == pytest.approx(2.76, abs=0.02)
    kinds = {z.id: (z.kind, z.buffer_m, z.height_m) for z in tea.zones}
    assert kinds == {"tan-cuong-stream": ("no_spray", 10, None), "tan-cuong-pole": ("obstacle", 6, 12)}
    assert tea.sprayable_ha < tea.area_ha
    # sprayable is exactly field minus the buffered zones
    assert tea.sprayable.area == pytest.approx(tea.boundary.difference(tea.keepout).area, rel=1e-9)
    assert not tea.sprayable.intersects(tea.zones[1].geometry.buffer(5.9))
    for key, value in {
        "id": "tan-cuong-tea",
        "crop": "tea",
        "eppo": "TheSI",
        "cooperative": "htx-che-tan-cuong",
        "commune": "Tân Cương",
        "district": "TP Thái Nguyên",
        "province": "Thái Nguyên",
    }.items():
        assert tea.properties[key] == value
    # the sample's hole is counter-clockwise: repaired, and said so
    assert any("orientation corrected" in w for w in tea.warnings)
    assert tea.boundary.exterior.is_ccw and not tea.boundary.interiors[0].is_ccw


def test_all_samples_load(samples):
    maize = fields.load(samples / "phu-binh-maize.geojson")[0]
    paddies = fields.load(samples / "dai-tu-paddies.geojson")[0]
    assert maize.sprayable_ha == maize.area_ha and not maize.zones
    assert paddies.boundary.geom_type == "MultiPolygon" and len(paddies.boundary.geoms) == 6
    (ee,) = fields.load(samples / "public" / "ee_field_130.wkt")
    assert ee.id == "ee_field_130-1" and ee.utm_epsg == 32634
    assert ee.area_ha == pytest.approx(2.0, abs=0.1)


# --- GeoJSON with the legacy crs member ------------------------------------------------


def test_geojson_legacy_crs_epsg3405_round_trip_within_1cm(tmp_path, tea):
    """WGS84 -> VN-2000 (file) -> load (UTM) -> back to VN-2000: same vertices within 1 cm."""
    wgs = _tea_wgs84(tea)
    vn = transform_geometry(wgs, "EPSG:4326", "EPSG:3405")
    assert 500_000 < vn.centroid.x < 700_000  # really metres in VN-2000 / UTM 48N
    path = _write_geojson(
        tmp_path / "tea-vn2000.geojson", [_feature(vn, id="tea-vn", name="Chè")], crs="urn:ogc:def:crs:EPSG::3405"
    )
    (f,) = fields.load(path)
    assert f.source_crs == "EPSG:3405"
    assert f.utm_epsg == 32648
    back = f.frame.geom_to_crs(f.boundary, "EPSG:3405")
    gap = np.abs(shapely.get_coordinates(shapely.normalize(back)) - shapely.get_coordinates(shapely.normalize(vn)))
    assert gap.max() < 0.01
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01
    assert f.area_ha == pytest.approx(tea.area_ha, rel=1e-6)


def test_frame_round_trip_through_epsg3405_within_1cm(tea):
    frame = tea.frame
    xy = shapely.get_coordinates(tea.boundary)
    lon, lat = frame.to_wgs84(xy[:, 0], xy[:, 1])
    vx, vy = fields.transform_coords(lon, lat, "EPSG:4326", "EPSG:3405")
    lon2, lat2 = fields.transform_coords(vx, vy, "EPSG:3405", "EPSG:4326")
    x2, y2 = frame.to_local(lon2, lat2)
    assert np.hypot(x2 - xy[:, 0], y2 - xy[:, 1]).max() < 0.01
    # VN-2000 is a different datum: the same point has different metres than in WGS84 UTM
    assert np.hypot(vx - xy[:, 0], vy - xy[:, 1]).min() > 1.0


def test_geojson_epsg3406_short_name(tmp_path, tea):
    vn = transform_geometry(_tea_wgs84(tea), "EPSG:4326", "EPSG:3406")
    path = _write_geojson(tmp_path / "t.geojson", [_feature(vn, id="a")], crs="EPSG:3406")
    (f,) = fields.load(path)
    assert f.source_crs == "EPSG:3406"
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01


# --- KML and KMZ (Google Earth exports) --------------------------------------------------


def _kml(tea: fields.Field) -> str:
    wgs = _tea_wgs84(tea)

    def coords(ring) -> str:  # lon,lat,alt triplets as Google Earth writes them
        return " ".join(f"{x:.8f},{y:.8f},{37.5 + (x * 1e4) % 3:.1f}" for x, y in ring.coords)

    pole = tea.frame.geom_to_wgs84(next(z for z in tea.zones if z.kind == "obstacle").geometry)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2" xmlns:gx="http://www.google.com/kml/ext/2.2">
<Document>
  <name>Tân Cương.kml</name>
  <Schema name="ruong" id="ruong">
    <SimpleField type="string" name="id"/><SimpleField type="string" name="crop"/>
    <SimpleField type="string" name="eppo"/><SimpleField type="string" name="cooperative"/>
    <SimpleField type="string" name="kind"/><SimpleField type="double" name="radius_m"/>
    <SimpleField type="double" name="height_m"/>
  </Schema>
  <Folder><name>Ruộng</name>
    <Placemark>
      <name>Đồi chè Tân Cương</name>
      <styleUrl>#poly</styleUrl>
      <ExtendedData><SchemaData schemaUrl="#ruong">
        <SimpleData name="id">tea-kml</SimpleData><SimpleData name="crop">tea</SimpleData>
        <SimpleData name="eppo">TheSI</SimpleData>
        <SimpleData name="cooperative">htx-che-tan-cuong</SimpleData>
      </SchemaData></ExtendedData>
      <Polygon><altitudeMode>clampToGround</altitudeMode>
        <outerBoundaryIs><LinearRing><coordinates>{coords(wgs.exterior)}</coordinates></LinearRing></outerBoundaryIs>
        <innerBoundaryIs><LinearRing><coordinates>{coords(wgs.interiors[0])}</coordinates></LinearRing></innerBoundaryIs>
      </Polygon>
    </Placemark>
    <Placemark>
      <name>Cột điện</name>
      <ExtendedData><SchemaData schemaUrl="#ruong">
        <SimpleData name="kind">obstacle</SimpleData><SimpleData name="radius_m">6</SimpleData>
        <SimpleData name="height_m">12</SimpleData>
      </SchemaData></ExtendedData>
      <Point><coordinates>{pole.x:.8f},{pole.y:.8f},41.0</coordinates></Point>
    </Placemark>
  </Folder>
</Document>
</kml>
"""


def _check_kml_field(f: fields.Field, tea: fields.Field) -> None:
    assert f.id == "tea-kml" and f.name == "Đồi chè Tân Cương"
    assert f.properties["crop"] == "tea" and f.properties["cooperative"] == "htx-che-tan-cuong"
    assert "tessellate" not in f.properties and "altitudeMode" not in f.properties
    assert f.boundary.has_z is False
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01
    (pole,) = f.zones
    assert (pole.kind, pole.buffer_m, pole.height_m) == ("obstacle", 6, 12)
    assert f.sprayable.area == pytest.approx(f.area_m2 - pole.keepout.intersection(f.boundary).area, rel=1e-9)


def test_kml_with_altitude_triplets(tmp_path, tea):
    path = tmp_path / "tan-cuong.kml"
    path.write_text(_kml(tea), encoding="utf-8")
    (f,) = fields.load(path)
    _check_kml_field(f, tea)
    assert f.source_format == "KML"


def test_kmz(tmp_path, tea):
    path = tmp_path / "tan-cuong.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", _kml(tea))
    (f,) = fields.load(path)
    _check_kml_field(f, tea)
    assert f.source_format == "KMZ"


# --- Shapefile and GeoPackage, written through GDAL ---------------------------------------


def _write_gdal(path: Path, driver: str, crs: str, geoms: list, props: dict[str, list]) -> None:
    pyogrio.raw.write(
        str(path),
        np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        [np.array(v, dtype=object if isinstance(v[0], str) else float) for v in props.values()],
        list(props),
        driver=driver,
        geometry_type="Unknown" if driver == "GPKG" else geoms[0].geom_type,
        crs=crs,
    )


@pytest.mark.parametrize("crs", ["EPSG:3405", "EPSG:32648"])
def test_shapefile_in_projected_crs(tmp_path, tea, crs):
    geom = transform_geometry(_tea_wgs84(tea), "EPSG:4326", crs)
    path = tmp_path / "tea.shp"
    _write_gdal(path, "ESRI Shapefile", crs, [geom], {"id": ["tea-shp"], "name": ["Đồi chè"], "crop": ["tea"]})
    assert path.with_suffix(".prj").exists()
    (f,) = fields.load(path)
    assert f.source_crs == crs
    assert f.name == "Đồi chè" and f.properties["crop"] == "tea"
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01
    # a zipped copy of the same shapefile reads the same
    zpath = tmp_path / "tea.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for part in tmp_path.glob("tea.*"):
            if part.suffix != ".zip":
                zf.write(part, f"ranh-gioi/{part.name}")
    (z,) = fields.load(zpath)
    assert z.id == "tea-shp" and z.area_ha == pytest.approx(f.area_ha, rel=1e-12)


def test_shapefile_without_prj_is_wgs84(tmp_path, tea):
    path = tmp_path / "tea.shp"
    _write_gdal(path, "ESRI Shapefile", "EPSG:4326", [_tea_wgs84(tea)], {"id": ["t"]})
    path.with_suffix(".prj").unlink()
    (f,) = fields.load(path)
    assert f.source_crs == "EPSG:4326"
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01


def test_geopackage_with_zones(tmp_path, tea):
    crs = "EPSG:3405"
    zones = {z.id: z for z in tea.zones}
    geoms = [
        transform_geometry(tea.frame.geom_to_wgs84(g), "EPSG:4326", crs)
        for g in (tea.boundary, zones["tan-cuong-stream"].geometry, zones["tan-cuong-pole"].geometry)
    ]
    path = tmp_path / "htx.gpkg"
    _write_gdal(
        path,
        "GPKG",
        crs,
        geoms,
        {
            "id": ["tea-gpkg", "stream", "pole"],
            "kind": ["field", "no_spray", "obstacle"],
            "buffer_m": [np.nan, 10.0, np.nan],
            "radius_m": [np.nan, np.nan, 6.0],
            "height_m": [np.nan, np.nan, 12.0],
        },
    )
    (f,) = fields.load(path)
    assert f.id == "tea-gpkg" and f.source_crs == "EPSG:3405" and f.source_format == "GeoPackage"
    assert "buffer_m" not in f.properties  # empty columns do not leak into the field
    assert {z.id: (z.kind, z.buffer_m) for z in f.zones} == {"stream": ("no_spray", 10), "pole": ("obstacle", 6)}
    assert f.sprayable_ha == pytest.approx(tea.sprayable_ha, abs=1e-5)


# --- WKT ---------------------------------------------------------------------------------


def test_wkt_several_geometries_and_srid(tmp_path, tea):
    wgs = _tea_wgs84(tea)
    vn = transform_geometry(wgs, "EPSG:4326", "EPSG:3405")
    far = shapely.affinity.translate(wgs, xoff=0.5)  # 50 km east, still zone 48
    path = tmp_path / "htx.wkt"
    path.write_text(f"# two fields of the cooperative\n{wgs.wkt}\n\nSRID=3405;{vn.wkt}\n{far.wkt}\n", encoding="utf-8")
    a, b, c = fields.load(path)
    assert [a.id, b.id, c.id] == ["htx-1", "htx-2", "htx-3"]
    assert (a.source_crs, b.source_crs) == ("EPSG:4326", "EPSG:3405")
    assert _max_vertex_gap(a.boundary, tea.boundary) < 0.01
    assert _max_vertex_gap(b.boundary, tea.boundary) < 0.01
    assert c.area_ha == pytest.approx(tea.area_ha, rel=0.01)
    (only,) = fields.load(path, field_id="htx-2")
    assert only.source_crs == "EPSG:3405"


def test_wkt_with_prj_sidecar(tmp_path, tea):
    from pyproj import CRS

    vn = transform_geometry(_tea_wgs84(tea), "EPSG:4326", "EPSG:3405")
    path = tmp_path / "tea.wkt"
    path.write_text(vn.wkt, encoding="utf-8")
    path.with_suffix(".prj").write_text(CRS("EPSG:3405").to_wkt("WKT1_ESRI"), encoding="utf-8")
    (f,) = fields.load(path)
    assert f.source_crs == "EPSG:3405"
    assert _max_vertex_gap(f.boundary, tea.boundary) < 0.01


# --- the local frame ---------------------------------------------------------------------


def test_field_straddling_utm_zone_boundary_gets_one_zone(tmp_path):
    """108°E separates zones 48 and 49; the centroid (108.004°E) picks 49 for the whole field."""
    from pyproj import Geod

    poly = shapely.Polygon([(107.995, 21.5), (108.013, 21.5), (108.013, 21.51), (107.995, 21.51)])
    path = _write_geojson(tmp_path / "edge.geojson", [_feature(poly, id="edge")])
    (f,) = fields.load(path)
    assert f.utm_epsg == 32649
    geodesic = abs(Geod(ellps="WGS84").geometry_area_perimeter(poly)[0])
    assert f.area_m2 == pytest.approx(geodesic, rel=0.003)  # UTM scale at a zone edge
    back = f.frame.geom_to_wgs84(f.boundary)
    assert (
        np.abs(
            shapely.get_coordinates(shapely.normalize(back)) - shapely.get_coordinates(shapely.normalize(poly))
        ).max()
        < 1e-9
    )
    west = _write_geojson(tmp_path / "west.geojson", [_feature(shapely.affinity.translate(poly, xoff=-0.01), id="w")])
    assert fields.load(west)[0].utm_epsg == 32648


def test_southern_hemisphere_frame():
    assert fields.LocalFrame.for_lonlat(-47.9, -15.8).utm_epsg == 32723
    assert fields.utm_epsg_for(105.73, 21.7) == 32648


# --- export ------------------------------------------------------------------------------


def test_export_geojson_loads_back_to_the_same_fields(tmp_path, samples):
    (tea,) = fields.load(samples / TEA)
    doc = fields.to_geojson([tea])
    kinds = [feat["properties"]["kind"] for feat in doc["features"]]
    assert kinds == ["field", "sprayable", "no_spray", "obstacle"]
    path = _write_geojson(tmp_path / "out.geojson", doc["features"])
    (again,) = fields.load(path)
    assert again.id == tea.id and again.properties["eppo"] == "TheSI"
    assert again.area_ha == pytest.approx(tea.area_ha, rel=1e-6)
    # zones come back already buffered (buffer 0), so the sprayable area is unchanged
    assert again.sprayable_ha == pytest.approx(tea.sprayable_ha, rel=1e-3)


def test_kml_untyped_data_elements(tmp_path):
    """Google My Maps writes <Data name=..><value>..</value></Data> without a Schema."""
    path = tmp_path / "my-map.kml"
    path.write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>HTX</name>
<Placemark><name>Ruộng 1</name><ExtendedData><Data name="crop"><value>rice</value></Data></ExtendedData>
<Polygon><outerBoundaryIs><LinearRing><coordinates>
105.73,21.70,0 105.732,21.70,0 105.732,21.702,0 105.73,21.702,0 105.73,21.70,0
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>
<Placemark><name>Ao</name><ExtendedData><Data name="kind"><value>no_spray</value></Data>
<Data name="buffer_m"><value>5</value></Data></ExtendedData>
<Point><coordinates>105.731,21.701,0</coordinates></Point></Placemark>
</Document></kml>
""",
        encoding="utf-8",
    )
    (f,) = fields.load(path)
    assert (f.id, f.name, f.properties["crop"]) == ("my-map-1", "Ruộng 1", "rice")
    (ao,) = f.zones
    assert (ao.kind, ao.buffer_m, ao.properties["name"]) == ("no_spray", 5.0, "Ao")
