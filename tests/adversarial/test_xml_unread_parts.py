"""GPX, KML, GML, OSM and GeoRSS: precise positions where GDAL does not read the XML.

The move: points snapped to about 100 m, and each precise position written where GDAL's
XML drivers pass over it: an XML comment or processing instruction, an element or
attribute of another namespace, an attribute the format has no field for, a KML style or
``styleUrl``, a GPX ``extensions`` outside a point, a field given twice (the driver keeps
the last), a value its field cannot parse (``37.5123`` in an integer field keeps 37), a
third GPX link, a KML ``Data`` beside a ``Schema`` or a ``SimpleData`` no schema
declares; any XML attribute of a GML feature, and elements beside a GML collection's
members or a GeoRSS channel's items; and, in OpenStreetMap XML, untagged nodes no tagged
way or relation draws (GDAL makes no feature of them) and the tags GDAL ignores.

Claim under test: such text holding a table of positions where the features lie holds
the file for review (``MAPGATE-UNREAD-GEOMETRIES``), in three places; the same documents
without the positions, and the numbers ordinary files write there (styles, heart rates,
versions, a view of each placemark, coordinates in fields GDAL reads, an OSM way's
vertices and edit records), do not.

Truth: the positions are drawn here at random around each place with pyproj's geodesic;
the documents are written here; what GDAL reads is pyogrio's answer.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyogrio
import pytest

from compliance import Checker, Effect
from compliance.readers.xml_unread import MAX_UNREAD_CHARS, NOT_LOOKED_THROUGH
from tests.adversarial.snapped_points import PLACES, around

UNREAD = "MAPGATE-UNREAD-GEOMETRIES"
HELD = "positions written where GDAL does not read the document"
N = 30
GPX_NS = 'xmlns="http://www.topografix.com/GPX/1/1" xmlns:x="urn:example:x"'
KML_NS = 'xmlns="http://www.opengis.net/kml/2.2" xmlns:x="urn:example:x"'
GML_NS = (
    'xmlns:ogr="http://ogr.maptools.org/" xmlns:gml="http://www.opengis.net/gml" '
    'xmlns:x="urn:example:x"'
)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker()


def _positions(place: str) -> tuple[np.ndarray, np.ndarray]:
    return around(place, N, seed=7)


Part = Callable[[int, float, float], str]  # point i, its precise lon, lat -> text
# A case: a builder's keyword arguments, or a function of the place that gives them.
Case = dict[str, object] | Callable[[str], dict[str, object]]


def _nothing(_i: int, _x: float, _y: float) -> str:
    return ""


# One feature of a document: point i, its snapped lon, lat, and its precise lon, lat.
Feature = Callable[[int, float, float, float, float], str]


def _document(path: Path, place: str, feature: Feature, wrap: Callable[[str], str],
              layer: str | None = None) -> Path:  # fmt: skip
    """A document of one feature per position, wrapped; GDAL must read the snapped ones."""
    precise, coarse = _positions(place)
    body = "".join(feature(i, *coarse[i], *precise[i]) + "\n" for i in range(N))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n' + wrap(body) + "\n")
    _reads_the_coarse_points(path, layer, coarse)
    return path


def _gpx(path: Path, place: str, inside: Part = _nothing, after: Part = _nothing,
         head: str = "", tail: str = "") -> Path:  # fmt: skip
    def point(i: int, x: float, y: float, px: float, py: float) -> str:
        return (f'<wpt lat="{y:.3f}" lon="{x:.3f}"><name>p{i}</name>{inside(i, px, py)}</wpt>'
                f"{after(i, px, py)}")  # fmt: skip

    return _document(path, place, point,
                     lambda body: f'<gpx version="1.1" creator="t" {GPX_NS}>{head}\n{body}{tail}</gpx>',
                     "waypoints")  # fmt: skip


def _kml(path: Path, place: str, inside: Part = _nothing, after: Part = _nothing,
         head: str = "") -> Path:  # fmt: skip
    def mark(i: int, x: float, y: float, px: float, py: float) -> str:
        return (f"<Placemark><name>p{i}</name>{inside(i, px, py)}<Point><coordinates>{x:.3f},"
                f"{y:.3f}</coordinates></Point></Placemark>{after(i, px, py)}")  # fmt: skip

    return _document(path, place, mark,
                     lambda body: f"<kml {KML_NS}><Document>{head}\n{body}</Document></kml>")  # fmt: skip


def _gml(path: Path, place: str, inside: Part = _nothing, after: Part = _nothing,
         head: str = "", on_feature: Part = _nothing, on_point: Part = _nothing) -> Path:  # fmt: skip
    def member(i: int, x: float, y: float, px: float, py: float) -> str:
        return (f'<gml:featureMember><ogr:site fid="s{i}"{on_feature(i, px, py)}>'
                f'<ogr:geometryProperty><gml:Point srsName="EPSG:4326"{on_point(i, px, py)}>'
                f"<gml:coordinates>{x:.3f},{y:.3f}</gml:coordinates></gml:Point>"
                f"</ogr:geometryProperty><ogr:name>p{i}</ogr:name>{inside(i, px, py)}</ogr:site>"
                f"</gml:featureMember>{after(i, px, py)}")  # fmt: skip

    return _document(path, place, member,
                     lambda body: f"<ogr:FeatureCollection {GML_NS}>{head}\n{body}</ogr:FeatureCollection>")  # fmt: skip


def _osm(path: Path, place: str, inside: Part = _nothing, after: Part = _nothing,
         tail: str = "", on_node: Part = _nothing) -> Path:  # fmt: skip
    def node(i: int, x: float, y: float, px: float, py: float) -> str:
        return (f'<node id="{i + 1}" lat="{y:.3f}" lon="{x:.3f}" version="3" changeset='
                f'"{9_000_000 + i}"{on_node(i, px, py)}><tag k="name" v="p{i}"/>'
                f"{inside(i, px, py)}</node>{after(i, px, py)}")  # fmt: skip

    return _document(path, place, node,
                     lambda body: f'<osm version="0.6" generator="t">\n{body}{tail}</osm>', "points")  # fmt: skip


def _georss(path: Path, place: str, after: Part = _nothing, head: str = "",
            atom: bool = False, inside: Part = _nothing) -> Path:  # fmt: skip
    tag = "entry" if atom else "item"

    def item(i: int, x: float, y: float, px: float, py: float) -> str:
        return (f"<{tag}><title>p{i}</title><georss:point>{y:.3f} {x:.3f}</georss:point>"
                f"{inside(i, px, py)}</{tag}>{after(i, px, py)}")  # fmt: skip

    spaces = 'xmlns:georss="http://www.georss.org/georss" xmlns:x="urn:example:x"'
    if atom:
        return _document(path, place, item, lambda body: f'<feed xmlns="http://www.w3.org/'
                         f'2005/Atom" {spaces}><title>t</title>{head}\n{body}</feed>')  # fmt: skip
    return _document(path, place, item, lambda body: f'<rss version="2.0" {spaces}><channel>'
                     f"<title>t</title>{head}\n{body}</channel></rss>")  # fmt: skip


def _mif(path: Path, place: str, center: str = "", extra: bool = False) -> Path:
    """A region per position: the 0.001 degree cell north-east of the snapped one, each
    with a row in the MID. ``center`` "own" gives each its centre as label point,
    "precise" the precise position (off the cell: it rounds to the cell south-west of
    it); ``extra`` writes the precise position past the declared column."""
    precise, coarse = _positions(place)
    regions = []
    for i, (x, y) in enumerate(coarse + 0.001):
        ring = [(x, y), (x + 1e-3, y), (x + 1e-3, y + 1e-3), (x, y + 1e-3), (x, y)]
        region = "Region 1\n  5\n" + "".join(f"{a:.3f} {b:.3f}\n" for a, b in ring)
        label = {"own": (x + 5e-4, y + 5e-4), "precise": tuple(precise[i])}.get(center)
        if label is not None:
            region += f"    Center {label[0]:.7f} {label[1]:.7f}\n"
        regions.append(region + "    Pen (1,2,0)\n    Brush (2,16777215,16777215)\n")
    path.write_text('Version 300\nCharset "WindowsLatin1"\nDelimiter ","\nCoordSys Earth '
                    'Projection 1, 104\nColumns 1\n  name Char(10)\nData\n\n' + "".join(regions))  # fmt: skip
    rows = [f'"p{i}"' + (f",{x:.7f},{y:.7f}" if extra else "") for i, (x, y) in enumerate(precise)]
    path.with_suffix(".mid").write_text("\n".join(rows) + "\n")
    frame = pyogrio.read_dataframe(path)
    assert list(frame.columns) == ["name", "geometry"]  # GDAL reads the declared column only
    assert np.allclose(frame.geometry.bounds[["minx", "miny"]].to_numpy(), coarse + 0.001)
    return path


def _loose_nodes(place: str, tags: str = "", first: int = 1001) -> str:
    """The precise positions as nodes of their own, each with ``tags``."""
    return "".join(
        f'<node id="{first + i}" lat="{y:.7f}" lon="{x:.7f}">{tags}</node>\n'
        for i, (x, y) in enumerate(_positions(place)[0])
    )


def _way(refs: range, tags: str = "", way: int = 5000) -> str:
    return f'<way id="{way}">' + "".join(f'<nd ref="{r}"/>' for r in refs) + f"{tags}</way>"


def _reads_the_coarse_points(path: Path, layer: str | None, coarse: np.ndarray) -> None:
    """GDAL reads the snapped points and nothing finer: the trick is the only payload."""
    # Read-only, as the checker reads: GDAL would otherwise leave a .gfs beside a GML.
    frame = pyogrio.read_dataframe(path, layer=layer, WRITE_GFS="NO")
    read = np.column_stack([frame.geometry.x, frame.geometry.y])
    assert np.allclose(read, coarse, atol=1e-9)


def _held(verdict) -> bool:
    return UNREAD in {f.rule_id for f in verdict.findings} and any(
        u.startswith(HELD) for u in verdict.profile.unread_geometries
    )


def _pos(x: float, y: float) -> str:
    return f"{x:.7f} {y:.7f}"


# Every XML format: a comment, or a processing instruction, after each feature.
BETWEEN_ELEMENTS: dict[str, Case] = {
    "comment": {"after": lambda i, x, y: f"<!-- {x:.7f},{y:.7f} -->"},
    "processing_instruction": {"after": lambda i, x, y: f"<?at {_pos(x, y)}?>"},
}
GPX_LEAKS: dict[str, Case] = {
    **BETWEEN_ELEMENTS,
    "foreign_element_attributes": {
        "inside": lambda i, x, y: f'<x:at lon="{x:.7f}" lat="{y:.7f}"/>'
    },
    "foreign_element_text": {"inside": lambda i, x, y: f"<x:at>{_pos(x, y)}</x:at>"},
    "foreign_attribute_on_a_point": {
        "inside": lambda i, x, y: f'<sym x:at="{_pos(x, y)}">pin</sym>'
    },
    "extension_attributes": {
        "inside": lambda i, x, y: f'<extensions><x:at lon="{x:.7f}" lat="{y:.7f}"/></extensions>'
    },
    "nested_extension": {
        "inside": lambda i, x, y: (
            f"<extensions><x:at><x:lon>{x:.7f}</x:lon><x:lat>{y:.7f}</x:lat></x:at></extensions>"
        )
    },
    "extension_given_twice": {
        "inside": lambda i, x, y: (
            f"<extensions><x:at>{_pos(x, y)}</x:at><x:at>none</x:at></extensions>"
        )
    },
    "field_given_twice": {"inside": lambda i, x, y: f"<cmt>{_pos(x, y)}</cmt><cmt>see map</cmt>"},
    "third_link": {
        "inside": lambda i, x, y: (
            f'<link href="a"/><link href="b"/><link href="https://example.org/{x:.7f},{y:.7f}"/>'
        )
    },
    "integer_field_with_decimals": {
        "inside": lambda i, x, y: f"<sat>{y:.7f}</sat><dgpsid>{x:.7f}</dgpsid>"
    },
    "real_field_with_two_numbers": {"inside": lambda i, x, y: f"<ele>12.0 {_pos(x, y)}</ele>"},
    "extensions_of_the_document": lambda place: {
        "tail": "<extensions>"
        + "".join(f"<x:at>{_pos(x, y)}</x:at>" for x, y in _positions(place)[0])
        + "</extensions>"
    },
}


def _schema(name: str, kind: str) -> str:
    return f'<Schema name="s" id="s"><SimpleField name="{name}" type="{kind}"/></Schema>'


def _simple_data(name: str, text: str, extra: str = "") -> str:
    return (f'<ExtendedData><SchemaData schemaUrl="#s"><SimpleData name="{name}">{text}'
            f"</SimpleData></SchemaData>{extra}</ExtendedData>")  # fmt: skip


KML_LEAKS: dict[str, Case] = {
    **BETWEEN_ELEMENTS,
    "foreign_element_text": {"inside": lambda i, x, y: f"<x:at>{_pos(x, y)}</x:at>"},
    "foreign_attributes_on_a_point": {
        "inside": lambda i, x, y: f'<x:at lon="{x:.7f}" lat="{y:.7f}"/>'
    },
    "style_url": {"inside": lambda i, x, y: f"<styleUrl>#s{x:.7f}_{y:.7f}</styleUrl>"},
    "inline_style": {
        "inside": lambda i, x, y: (
            f"<Style><IconStyle><scale>{x:.7f}</scale>"
            f"<heading>{y:.7f}</heading></IconStyle></Style>"
        )
    },
    "description_given_twice": {
        "inside": lambda i, x, y: (
            f"<description>{_pos(x, y)}</description><description>a site</description>"
        )
    },
    "visibility_with_decimals": {
        "inside": lambda i, x, y: f"<visibility>{x:.7f}</visibility><open>{y:.7f}</open>"
    },
    "time_that_is_no_time": {
        "inside": lambda i, x, y: f"<TimeStamp><when>{_pos(x, y)}</when></TimeStamp>"
    },
    "data_beside_a_schema": {
        "head": _schema("kind", "string"),
        "inside": lambda i, x, y: _simple_data(
            "kind", "site", f'<Data name="at"><value>{_pos(x, y)}</value></Data>'
        ),
    },
    "undeclared_simple_data": {
        "head": _schema("kind", "string"),
        "inside": lambda i, x, y: _simple_data("at", _pos(x, y)),
    },
    "double_field_with_two_numbers": {
        "head": _schema("h", "double"),
        "inside": lambda i, x, y: _simple_data("h", f"12.5 {_pos(x, y)}"),
    },
}


GML_LEAKS: dict[str, Case] = {
    **BETWEEN_ELEMENTS,
    "attribute_of_a_feature": {"on_feature": lambda i, x, y: f' x:at="{_pos(x, y)}"'},
    "attribute_of_a_property": {
        "inside": lambda i, x, y: f'<ogr:kind at="{_pos(x, y)}">a</ogr:kind>'
    },
    "attribute_of_the_point": {"on_point": lambda i, x, y: f' x:lon="{x:.7f}" x:lat="{y:.7f}"'},
    "a_log_beside_the_members": {
        "after": lambda i, x, y: f"<x:log><x:entry>{_pos(x, y)}</x:entry></x:log>"
    },
}


OSM_LEAKS: dict[str, Case] = {
    **BETWEEN_ELEMENTS,
    "attribute_of_a_node": lambda place: {"on_node": lambda i, x, y: f' at="{_pos(x, y)}"'},
    "element_in_a_node": lambda place: {"inside": lambda i, x, y: f"<at>{_pos(x, y)}</at>"},
    "attribute_of_a_tag": lambda place: {
        "inside": lambda i, x, y: f'<tag k="ref" v="a" at="{_pos(x, y)}"/>'
    },
    "a_tag_gdal_ignores": lambda place: {
        "inside": lambda i, x, y: f'<tag k="note" v="{_pos(x, y)}"/>'
    },
    "untagged_nodes": lambda place: {"tail": _loose_nodes(place)},
    "nodes_tagged_by_an_editor_only": lambda place: {
        "tail": _loose_nodes(place, '<tag k="created_by" v="JOSM"/><tag k="source" v="survey"/>')
    },
    "nodes_of_an_untagged_way": lambda place: {
        "tail": _loose_nodes(place) + _way(range(1001, 1001 + N))
    },
}


GEORSS_LEAKS: dict[str, Case] = {
    **BETWEEN_ELEMENTS,
    "a_log_in_the_channel": lambda place: {
        "head": "<x:log>" + " ".join(_pos(x, y) for x, y in _positions(place)[0]) + "</x:log>"
    },
    "an_element_per_position_in_the_feed": lambda place: {
        "atom": True,
        "after": lambda i, x, y: f'<x:at lon="{x:.7f}" lat="{y:.7f}"/>',
    },
}


def test_a_kmz_document_is_looked_through_too(tmp_path, checker):
    document = _kml(tmp_path / "doc.kml", "seoul", after=lambda i, x, y: f"<!-- {_pos(x, y)} -->")
    path = tmp_path / "f.kmz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(document, "doc.kml")
    assert _held(checker.check(path))


def test_too_much_unread_text_is_not_passed(tmp_path, checker):
    # KML: GDAL's GPX reader refuses a document with that much in one element as corrupt.
    filler = "<!-- " + "1234 " * (MAX_UNREAD_CHARS // 5 + 10) + "-->"
    verdict = checker.check(_kml(tmp_path / "f.kml", "seoul", head=filler))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert NOT_LOOKED_THROUGH in verdict.profile.unread_geometries


GARMIN = (
    "<extensions><x:TrackPointExtension><x:hr>{hr}</x:hr><x:cad>88</x:cad>"
    "<x:atemp>21.5</x:atemp></x:TrackPointExtension></extensions>"
)
GPX_CLEAN: dict[str, Case] = {
    "plain": {},
    "device_extensions": {"inside": lambda i, x, y: GARMIN.format(hr=120 + i)},
    "read_extension_fields": {
        "inside": lambda i, x, y: (
            f"<extensions><x:lon>{x:.3f}</x:lon><x:lat>{y:.3f}</x:lat></extensions>"
        )
    },
    "a_tool_comment_and_bounds": {
        "head": "<!-- written 2024-05-01 by surveyor 1.2.3 --><metadata><time>2024-05-01T10:00:"
        '00Z</time><bounds minlat="-90" minlon="-180" maxlat="90" maxlon="180"/></metadata>'
    },
    "heights_and_fixes": {
        "inside": lambda i, x, y: f"<ele>{40.25 + i}</ele><sat>{5 + i % 7}</sat><hdop>1.4</hdop>"
    },
}


def _look_at(x: float, y: float) -> str:
    return f"<LookAt><longitude>{x:.3f}</longitude><latitude>{y:.3f}</latitude><range>500</range></LookAt>"  # noqa: E501


KML_CLEAN: dict[str, Case] = {
    "plain": {},
    "inline_styles": {
        "inside": lambda i, x, y: (
            "<Style><IconStyle><color>ff0000ff</color><scale>"
            '1.1</scale><hotSpot x="0.5" y="0" xunits="fraction" yunits="fraction"'
            "/></IconStyle><LineStyle><width>1.5</width></LineStyle></Style>"
            "<styleUrl>#msn_ylw-pushpin</styleUrl><visibility>1</visibility>"
        )
    },
    "a_view_of_each_placemark": {"inside": lambda i, x, y: _look_at(round(x, 3), round(y, 3))},
    "coordinates_in_read_fields": {
        "head": '<Schema name="s" id="s"><SimpleField name="lon" type="double"/>'
        '<SimpleField name="lat" type="double"/></Schema>',
        "inside": lambda i, x, y: (
            '<ExtendedData><SchemaData schemaUrl="#s">'
            f'<SimpleData name="lon">{x:.3f}</SimpleData><SimpleData name="lat">{y:.3f}'
            "</SimpleData></SchemaData></ExtendedData>"
        ),
    },
    "data_without_a_schema": {
        "inside": lambda i, x, y: (
            f'<ExtendedData><Data name="at"><value>{x:.3f} {y:.3f}</value></Data></ExtendedData>'
        )
    },
    "a_tool_comment_and_times": {
        "head": "<!-- exported 2024-05-01 by mapper 10.2.1 -->",
        "inside": lambda i, x, y: "<TimeStamp><when>2024-05-01T10:00:00Z</when></TimeStamp>",
    },
}


GML_CLEAN: dict[str, Case] = {
    "plain": {},
    "ids_and_measures": {
        "on_feature": lambda i, x, y: f' gml:id="site.{i}"',
        "inside": lambda i, x, y: (
            f'<ogr:length uom="m">{12.5 + i}</ogr:length>'
            f'<ogr:ref xlink:href="#site.{i}" xmlns:xlink="http://www.w3.org/1999/xlink"/>'
        ),
    },
    "a_tool_comment_and_the_collection_box": {
        "head": "<!-- written 2024-05-01 by ogr2ogr 3.9.1 --><gml:boundedBy><gml:Box>"
        "<gml:coord><gml:X>126.9</gml:X><gml:Y>37.5</gml:Y></gml:coord><gml:coord><gml:X>127.1"
        "</gml:X><gml:Y>37.7</gml:Y></gml:coord></gml:Box></gml:boundedBy>"
    },
    "coordinates_in_read_fields": {
        "inside": lambda i, x, y: f"<ogr:lon>{x:.3f}</ogr:lon><ogr:lat>{y:.3f}</ogr:lat>"
    },
}


def _coarse_nodes(place: str) -> str:
    """The coarse positions again, untagged, as a drawn feature's vertices."""
    return "".join(
        f'<node id="{2001 + i}" lat="{y:.3f}" lon="{x:.3f}" version="1" uid="{7_000_000 + i}"/>'
        for i, (x, y) in enumerate(_positions(place)[1])
    )


OSM_CLEAN: dict[str, Case] = {
    "plain": lambda place: {},
    "vertices_of_a_tagged_way": lambda place: {
        "tail": _coarse_nodes(place) + _way(range(2001, 2001 + N), '<tag k="highway" v="path"/>')
    },
    "vertices_of_a_way_in_a_relation": lambda place: {
        "tail": _coarse_nodes(place)
        + _way(range(2001, 2001 + N))
        + '<relation id="9"><member type="way" ref="5000" role=""/></relation>'
    },
    "edit_records_and_a_source": lambda place: {
        "on_node": lambda i, x, y: (
            f' uid="{40_000 + i}" user="u{i}" timestamp="2024-05-01T10:00:00Z"'
        ),
        "inside": lambda i, x, y: '<tag k="source" v="survey 2024"/><tag k="ele" v="12.5"/>',
    },
}


GEORSS_CLEAN: dict[str, Case] = {
    "plain": {},
    "a_channel_of_a_tool": {
        "head": "<description>sites, version 2.4.1</description><generator>feeder 10.2"
        "</generator><pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate><!-- build 2024.05 -->"
    },
    "fields_in_the_items": {
        "inside": lambda i, x, y: f'<x:at lon="{x:.3f}" lat="{y:.3f}"/><x:n>{40.5 + i}</x:n>'
    },
    "an_atom_feed": {"atom": True, "head": "<updated>2024-05-01T10:00:00Z</updated><id>urn:f</id>"},
}


MIF_LEAKS: dict[str, Case] = {
    "label_points_off_their_regions": {"center": "precise"},
    "values_past_the_columns": {"extra": True},
}
MIF_CLEAN: dict[str, Case] = {"plain": {}, "label_points_within_their_regions": {"center": "own"}}
# Format -> its builder, its file's name, the tricks that hide positions, and the clean cases.
FORMATS: dict[str, tuple[Callable[..., Path], str, dict[str, Case], dict[str, Case]]] = {
    "gpx": (_gpx, "f.gpx", GPX_LEAKS, GPX_CLEAN),
    "kml": (_kml, "f.kml", KML_LEAKS, KML_CLEAN),
    "gml": (_gml, "f.gml", GML_LEAKS, GML_CLEAN),
    "osm": (_osm, "f.osm", OSM_LEAKS, OSM_CLEAN),
    "georss": (_georss, "f.xml", GEORSS_LEAKS, GEORSS_CLEAN),
    "mif": (_mif, "f.mif", MIF_LEAKS, MIF_CLEAN),
}


def _build(tmp_path: Path, fmt: str, case: Case, place: str, name: str = "") -> Path:
    build, file, _, _ = FORMATS[fmt]
    folder = tmp_path / (name or "case")
    folder.mkdir()
    return build(folder / file, place, **(case(place) if callable(case) else case))


def _cases(which: int) -> list[tuple[str, str]]:
    return [(fmt, name) for fmt, parts in FORMATS.items() for name in parts[which]]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("fmt, trick", _cases(2), ids="-".join)
def test_positions_where_gdal_does_not_read_hold_the_file(tmp_path, checker, fmt, trick, place):
    verdict = checker.check(_build(tmp_path, fmt, FORMATS[fmt][2][trick], place))
    assert verdict.verdict not in (Effect.allow, Effect.allow_with_conditions)
    assert _held(verdict), verdict.profile.unread_geometries


# The document each clean case is held equal to: one without its numbers, but heights
# make a GPX 3-D (``test_gpx_heights``), so its twin for heights carries them too.
PLAIN_TWIN: dict[str, Case] = {
    "heights_and_fixes": {"inside": lambda i, x, y: f"<ele>{40.25 + i}</ele>"},
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("fmt, what", _cases(3), ids="-".join)
def test_ordinary_numbers_where_gdal_does_not_read_are_clean(tmp_path, checker, fmt, what, place):
    plain = checker.check(_build(tmp_path, fmt, PLAIN_TWIN.get(what, {}), place, "plain"))
    verdict = checker.check(_build(tmp_path, fmt, FORMATS[fmt][3][what], place))
    assert not _held(verdict), verdict.profile.unread_geometries
    assert verdict.verdict == plain.verdict
    assert plain.verdict != Effect.review
