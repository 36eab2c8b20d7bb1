"""Polygons, 3D cuboids and keypoints as task types: exact similarity against shapely and
pycocotools, agreement / consensus / annotators through the box machinery, readers, bad
input in every command, and the structured properties (self F1 = 1, consensus of identical
annotations, annotator order)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.structured import structured_metrics
from labelaudit.structured.consensus import structured_consensus
from labelaudit.structured.geometry import COCO_PERSON_SIGMAS, polygon_iou
from labelaudit.structured.shapes import keypoint_oks, shape_data
from structured_helpers import structured_table

runner = CliRunner()


def _stars(rng: np.random.Generator, p: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """p simple star-shaped polygons (mostly non-convex) of 3..k vertices, padded to k."""
    n = rng.integers(3, k + 1, size=p)
    lane = np.arange(k)
    angle = (lane[None, :] + rng.uniform(0, 0.9, (p, k))) * 2 * np.pi / n[:, None]
    radius = rng.uniform(1, 5, (p, k))
    xy = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=2)
    xy += rng.uniform(-3, 3, (p, 1, 2))
    flip = rng.random(p) < 0.5  # clockwise half of the time
    for i in np.flatnonzero(flip):
        xy[i, : n[i]] = xy[i, : n[i]][::-1]
    xy[lane[None, :] >= n[:, None]] = 0.0
    return xy, n


def test_polygon_iou_matches_shapely_on_non_convex_polygons():
    from shapely.geometry import Polygon

    rng = np.random.default_rng(3)
    a, a_n = _stars(rng, 600, 12)
    b, b_n = _stars(rng, 600, 8)
    ours = polygon_iou(a, a_n, b, b_n)
    want = []
    for i in range(a_n.size):
        pa, pb = Polygon(a[i, : a_n[i]]), Polygon(b[i, : b_n[i]])
        assert pa.is_valid and pb.is_valid
        inter = pa.intersection(pb).area
        want.append(inter / (pa.area + pb.area - inter))
    assert np.allclose(ours, want, rtol=0, atol=1e-9)
    assert (ours > 0).sum() > 300 and (ours == 0).sum() > 20
    convex = np.array([Polygon(a[i, : a_n[i]]).convex_hull.area for i in range(a_n.size)])
    areas = np.array([Polygon(a[i, : a_n[i]]).area for i in range(a_n.size)])
    assert (convex > areas + 1e-6).sum() > 300  # most are not convex


def test_l_shape_hand_value():
    ell = np.array([[[0, 0], [4, 0], [4, 1], [1, 1], [1, 4], [0, 4]]], dtype=float)
    square = np.array([[[0, 0], [2, 0], [2, 2], [0, 2]]], dtype=float)
    # L (area 7) and the 2 x 2 square share 3 (the square minus its [1,2]x[1,2] corner)
    assert polygon_iou(ell, np.array([6]), square, np.array([4]))[0] == pytest.approx(3 / 8)


def _yaw_reference(a: dict, b: dict) -> float:
    """3D IoU by shapely: bird's-eye-view polygon intersection x height overlap."""
    from shapely.geometry import Polygon

    def footprint(c: dict) -> Polygon:
        cos, sin = math.cos(c["yaw"]), math.sin(c["yaw"])
        corners = []
        for dx, dy in ((1, 1), (-1, 1), (-1, -1), (1, -1)):
            u, v = dx * c["length"] / 2, dy * c["width"] / 2
            corners.append((c["x"] + u * cos - v * sin, c["y"] + u * sin + v * cos))
        return Polygon(corners)

    bev = footprint(a).intersection(footprint(b)).area
    top = min(a["z"] + a["height"] / 2, b["z"] + b["height"] / 2)
    bottom = max(a["z"] - a["height"] / 2, b["z"] - b["height"] / 2)
    inter = bev * max(top - bottom, 0.0)
    volume = [c["length"] * c["width"] * c["height"] for c in (a, b)]
    return inter / (sum(volume) - inter)


def _cuboid(rng: np.random.Generator, label: str = "car") -> dict:
    return {
        "x": float(rng.uniform(0, 6)),
        "y": float(rng.uniform(0, 6)),
        "z": float(rng.uniform(0, 2)),
        "length": float(rng.uniform(1, 5)),
        "width": float(rng.uniform(1, 3)),
        "height": float(rng.uniform(1, 2)),
        "yaw": float(rng.uniform(-math.pi, math.pi)),
        "label": label,
    }


def test_cuboid_table_iou_matches_shapely_reference():
    rng = np.random.default_rng(5)
    records = []
    for i in range(150):
        records += [(f"f{i}", "a", [_cuboid(rng)]), (f"f{i}", "b", [_cuboid(rng)])]
    table = structured_table("cuboids", records)
    d = shape_data(table)
    i, j = np.arange(0, 300, 2), np.arange(1, 300, 2)
    want = [_yaw_reference(records[2 * k][2][0], records[2 * k + 1][2][0]) for k in range(150)]
    got = d.similarity(i, j)
    assert np.allclose(got, want, rtol=0, atol=1e-9) and (got > 0).sum() > 30


def test_keypoint_oks_is_coco_compute_oks():
    """Both sets label the same keypoints with the same area: pycocotools' computeOks."""
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(7)
    gt_xy = rng.uniform(0, 100, (17, 2))
    v = np.where(rng.random(17) < 0.7, 2, 0)
    dt_xy = gt_xy + rng.normal(0, 4, (17, 2))
    area = 2500.0
    gt = {"keypoints": np.column_stack([gt_xy, v]).ravel().tolist(), "area": area,
          "bbox": [0, 0, 100, 100], "image_id": 1, "category_id": 1}  # fmt: skip
    dt = {"keypoints": np.column_stack([dt_xy, v]).ravel().tolist(), "score": 1.0,
          "image_id": 1, "category_id": 1}  # fmt: skip

    class Ev(COCOeval):
        def __init__(self) -> None:
            super().__init__(iouType="keypoints")
            self._gts = {(1, 1): [gt]}
            self._dts = {(1, 1): [dt]}

    want = Ev().computeOks(1, 1)[0, 0]
    fields = {
        "xy": np.stack([dt_xy, gt_xy]),
        "v": np.stack([v, v]).astype(float),
        "area": np.array([area, area]),
        "sigmas": COCO_PERSON_SIGMAS,
    }
    got = keypoint_oks(fields, np.array([0]), np.array([1]))[0]
    assert got == pytest.approx(want, abs=1e-9) and 0.05 < got < 0.95


def _polygon(x: float, y: float, size: float, label: str = "car") -> dict:
    """An arrow-head (non-convex) polygon."""
    pts = [[x, y], [x + size, y], [x + size / 2, y + size / 3], [x + size, y + size], [x, y + size]]
    return {"points": pts, "label": label}


def test_polygon_agreement_consensus_annotators():
    good = [_polygon(0, 0, 10), _polygon(50, 50, 20, "dog")]
    shifted = [_polygon(1, 0, 10), _polygon(50, 51, 20, "dog")]
    records = []
    for i in range(12):
        records += [(f"i{i}", "a", good), (f"i{i}", "b", shifted), (f"i{i}", "c", good)]
        records += [(f"i{i}", "d", [_polygon(200, 200, 5)])]  # draws something else
    table = structured_table("polygons", records)
    found = structured_metrics(table, ci="none")
    assert set(found["polygon_f1"]) == {"iou50", "iou50_95"}
    # pairs among a, b, c: F1 1 at IoU 0.5; with d: 0 -> 3 of 6 pairs
    assert found["polygon_f1"]["iou50"].value == pytest.approx(0.5)
    assert found["polygon_label_agreement"].value == 1.0
    vote = structured_consensus(table)
    assert vote.payload.to_pylist()[0] == sorted(good, key=lambda p: p["points"][0][0])
    from labelaudit.quality.structured import structured_annotator_report

    report = structured_annotator_report(table).to_dict()
    assert report["primary_metric"] == "polygon_f1_50"
    assert report["annotators"][-1]["annotator"] == "d"
    assert report["annotators"][-1]["polygon_f1_50"] == 0.0
    assert report["annotators"][-1]["vs_consensus"]["polygon_f1_50"] == 0.0


def test_cuboid_and_keypoint_consensus():
    car = {"x": 0.0, "y": 0.0, "z": 1.0, "length": 4.0, "width": 2.0, "height": 1.5}
    records = [
        ("f", "a", [{**car, "yaw": 3.1, "label": "car"}]),
        ("f", "b", [{**car, "x": 0.3, "yaw": -3.1, "label": "car"}]),
        ("f", "c", [{**car, "x": 0.6, "yaw": 3.1, "label": "truck"}]),
    ]
    (got,) = structured_consensus(structured_table("cuboids", records)).payload.to_pylist()[0]
    assert got["x"] == pytest.approx(0.3) and got["label"] == "car"
    # circular mean: 3.1, -3.1, 3.1 average near +-pi, not near 1.03
    assert math.cos(got["yaw"] - (3.1 + (2 * math.pi - 6.2) / 3)) == pytest.approx(1.0)
    sets = [
        [10, 10, 2, 20, 20, 2, 0, 0, 0],
        [12, 10, 2, 21, 20, 1, 30, 30, 2],
        [11, 13, 2, 0, 0, 0, 31, 30, 2],
    ]
    records = [("p", k, [{"keypoints": s, "area": 4000, "label": "person"}]) for k, s in
               zip("abc", sets, strict=True)]  # fmt: skip
    (kp,) = structured_consensus(structured_table("keypoints", records)).payload.to_pylist()[0]
    # keypoint 1: all three (median 11, 13 -> 11, 10); 2: a, b (mean of the two middles);
    # 3: b, c; v = 2 unless most labellers said 1
    assert kp["keypoints"] == [11, 10, 2, 20.5, 20, 1, 30.5, 30, 2]
    assert kp["area"] == 4000


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


BAD = [
    ("polygons", [{"points": [[0, 0], [1, 1]], "label": "car"}], "label.points"),
    ("polygons", [{"points": [[0, 0], [1, 1], [2]], "label": "car"}], "label.points"),
    ("cuboids", [{**_cuboid(np.random.default_rng(0)), "width": -1.0}], "label.width"),
    ("keypoints", [{"keypoints": [1, 2, 2, 3], "label": "person"}], "label.keypoints"),
    ("polygons", [{"x": 0, "y": 0, "width": 3, "height": 3, "label": "car"}], "label"),
]


@pytest.mark.parametrize("command", ["agreement", "consensus", "annotators", "adjudicate"])
@pytest.mark.parametrize(("task", "label", "field"), BAD)
def test_bad_shapes_name_file_row_field_in_every_command(tmp_path, command, task, label, field):
    good = {
        "polygons": [_polygon(0, 0, 3)],
        "cuboids": [_cuboid(np.random.default_rng(1))],
        "keypoints": [{"keypoints": [1, 2, 2, 3, 4, 2], "label": "person"}],
    }[task]
    path = _jsonl(
        tmp_path / "bad.jsonl",
        [
            {"item": "i", "annotator": "a", "label": good},
            {"item": "i", "annotator": "b", "label": label},
        ],
    )
    result = runner.invoke(app, [command, str(path), "--task", task])
    assert result.exit_code == 2, result.output
    assert "bad.jsonl row 2" in result.stderr and f"field '{field}'" in result.stderr
    assert "Traceback" not in result.output


def test_label_studio_polygons_in_pixels(tmp_path):
    from labelaudit.io import read_export

    export = "tests/data/formats/label_studio/export_rect_polygon_keypoint.json"
    table, _ = read_export(export, control="polygon_label")
    assert table.task == "polygons"
    (polygon,) = table.payload.to_pylist()[0]
    assert polygon["label"] == "polygon_label"
    assert polygon["points"][0] == pytest.approx([41.74228675136116 * 5, 3.546099290780142 * 3.2])


# --------------------------------------------------------------------------- properties
coordinate = st.integers(0, 60).map(float)


@st.composite
def polygons(draw):
    x, y = draw(coordinate), draw(coordinate)
    size = float(draw(st.integers(2, 20)))
    return _polygon(x, y, size, draw(st.sampled_from(["car", "dog"])))


@st.composite
def cuboids(draw):
    return {
        "x": draw(coordinate), "y": draw(coordinate), "z": draw(coordinate) / 10,
        "length": float(draw(st.integers(1, 9))), "width": float(draw(st.integers(1, 5))),
        "height": float(draw(st.integers(1, 3))), "yaw": draw(st.integers(-3, 3)) / 2,
        "label": draw(st.sampled_from(["car", "ped"])),
    }  # fmt: skip


@st.composite
def keypoint_sets(draw):
    v = draw(st.lists(st.sampled_from([0, 1, 2]), min_size=4, max_size=4))
    xy = [(draw(coordinate), draw(coordinate)) for _ in v]
    flat = [c for (x, y), f in zip(xy, v, strict=True) for c in ((x, y, f) if f else (0, 0, 0))]
    return {"keypoints": [float(c) for c in flat], "area": 900.0, "label": "person"}


SHAPES = {"polygons": polygons(), "cuboids": cuboids(), "keypoints": keypoint_sets()}


def _separate(task: str, regions: list[dict]) -> list[dict]:
    """Regions far apart (so that each one is its own object)."""
    out = []
    for k, r in enumerate(regions):
        shift = 1000.0 * k
        if task == "polygons":
            out.append({**r, "points": [[x + shift, y] for x, y in r["points"]]})
        elif task == "cuboids":
            out.append({**r, "x": r["x"] + shift})
        else:
            kp = r["keypoints"]
            moved = [c + shift if i % 3 == 0 and kp[i + 2] else c for i, c in enumerate(kp)]
            out.append({**r, "keypoints": moved})
    return out


def _order(task: str, regions: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in regions)


@pytest.mark.parametrize("task", list(SHAPES))
def test_identical_annotations_are_their_own_consensus_and_agree_fully(task):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.lists(SHAPES[task], max_size=3), min_size=1, max_size=3), st.integers(2, 3))
    def check(images, n_ann):
        images = [_separate(task, regions) for regions in images]
        if task == "keypoints":  # a set with nothing labelled has no OKS with anything
            images = [[r for r in regions if any(r["keypoints"][2::3])] for regions in images]
        records = [(f"i{i}", f"a{k}", r) for i, r in enumerate(images) for k in range(n_ann)]
        table = structured_table(task, records)
        got = structured_consensus(table).payload.to_pylist()
        assert [_order(task, g) for g in got] == [_order(task, r) for r in images]
        if any(images):
            found = structured_metrics(table, ci="none")
            noun, what = {"polygons": ("polygon", "iou"), "cuboids": ("cuboid", "iou"),
                          "keypoints": ("keypoint", "oks")}[task]  # fmt: skip
            assert found[f"{noun}_f1"][f"{what}50_95"].value == pytest.approx(1.0, abs=1e-12)
            assert found[f"mean_{what}"].value == pytest.approx(1.0, abs=1e-12)

    check()


@pytest.mark.parametrize("task", list(SHAPES))
def test_permuting_annotators_changes_nothing(task):
    @settings(max_examples=20, deadline=None)
    @given(
        st.lists(st.tuples(st.sampled_from(["i1", "i2"]), st.lists(SHAPES[task], max_size=3)),
                 min_size=2, max_size=8),
        st.permutations(["a0", "a1", "a2", "a3"]),
    )  # fmt: skip
    def check(rows, names):
        base = [(item, f"a{k % 4}", r) for k, (item, r) in enumerate(rows)]
        seen: set = set()
        base = [r for r in base if (r[0], r[1]) not in seen and not seen.add((r[0], r[1]))]
        renamed = {f"a{k}": names[k] for k in range(4)}
        moved = [(item, renamed[a], r) for item, a, r in reversed(base)]
        one, two = structured_table(task, base), structured_table(task, moved)
        assert structured_consensus(one).to_dict() == structured_consensus(two).to_dict()
        m1 = structured_metrics(one, ci="none")
        m2 = structured_metrics(two, ci="none")
        flat1 = json.dumps({k: v if isinstance(v, dict) else v.to_dict() for k, v in m1.items()},
                           default=lambda o: o.to_dict(), sort_keys=True)  # fmt: skip
        flat2 = json.dumps({k: v if isinstance(v, dict) else v.to_dict() for k, v in m2.items()},
                           default=lambda o: o.to_dict(), sort_keys=True)  # fmt: skip
        assert flat1 == flat2

    check()


POLYGON_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="outline" toName="image">
    <Label value="car"/><Label value="dog"/>
  </PolygonLabels>
</View>"""


def _ls_polygon_export(path, n_images: int = 8):
    """A Label Studio JSON export: 3 annotators outline a car on 640 x 480 images; the
    third one's outline is off by a third of the car on every other image."""
    tasks = []
    for i in range(n_images):
        annotations = []
        for who in (1, 2, 3):
            dx = 12.0 if who == 3 and i % 2 else 0.0
            points = [[10 + dx, 10], [40 + dx, 10], [25 + dx, 20], [40 + dx, 40], [10 + dx, 40]]
            region = {
                "id": f"r{i}{who}", "type": "polygonlabels", "from_name": "outline",
                "to_name": "image", "original_width": 640, "original_height": 480,
                "image_rotation": 0,
                "value": {"points": points, "closed": True, "polygonlabels": ["car"]},
            }  # fmt: skip
            annotations.append({"id": i * 10 + who, "completed_by": who, "result": [region]})
        tasks.append({"id": i, "data": {"image": f"/data/img{i}.jpg"}, "annotations": annotations})
    path.write_text(json.dumps(tasks))
    return path


def test_label_studio_polygons_agreement_and_review_tasks_round_trip(tmp_path):
    from labelaudit.io import read_export

    export = _ls_polygon_export(tmp_path / "export.json")
    table, _ = read_export(export)
    assert table.task == "polygons" and table.n_ratings == 24
    first = table.payload.to_pylist()[0][0]
    assert first["points"][1] == pytest.approx([40 * 6.4, 10 * 4.8])
    config = tmp_path / "config.xml"
    config.write_text(POLYGON_CONFIG)
    out = tmp_path / "queue.jsonl"
    result = runner.invoke(
        app,
        ["adjudicate", str(export), "--threshold", "0.9", "--out", str(out),
         "--label-studio", "--label-config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(entries) == 4 and all(e["task"] == "polygons" for e in entries)
    review = json.loads(out.with_suffix(".label-studio.json").read_text())
    regions = review[0]["predictions"][0]["result"]
    assert regions[0]["type"] == "polygonlabels" and regions[0]["from_name"] == "outline"
    assert regions[0]["value"]["points"][1] == pytest.approx([40.0, 10.0])  # percent again


def test_polygons_project_tracks_polygon_f1(tmp_path):
    from labelaudit.project import Project

    export = _ls_polygon_export(tmp_path / "export.json")
    project = tmp_path / "proj"
    assert runner.invoke(app, ["init", str(project), "--task", "polygons"]).exit_code == 0
    config = Project.load(project).config
    assert config.task.tracked_metric == "polygon_f1_50" and config.gates[0].metric == (
        "polygon_f1_50"
    )
    stored = runner.invoke(app, ["ingest", str(export), "--batch", "w1", "--project", str(project)])
    assert stored.exit_code == 0, stored.output
    with Project.load(project).open_store(read_only=True) as store:
        rows = dict(
            store.execute(
                "SELECT metric, value FROM batch_metrics WHERE kind = 'agreement'"
            ).fetchall()
        )
    assert not any("krippendorff" in name for name in rows)
    # pairs (1,2) agree on all 8 images; pairs with 3 on the 4 shifted ones fail IoU 0.5
    assert rows["polygon_f1_50"] == pytest.approx((8 + 4 + 4) / 24)
    check = runner.invoke(app, ["check", "--project", str(project), "--format", "json"])
    assert check.exit_code == 1  # 0.67 < the default gate 0.7
    bad = _jsonl(tmp_path / "bad.jsonl", [{"item": "x", "annotator": "a", "label": [
        {"points": [[0, 0], [1, 1]], "label": "car"}]}])  # fmt: skip
    refused = runner.invoke(app, ["ingest", str(bad), "--batch", "b", "--project", str(project)])
    assert refused.exit_code == 2 and "field 'label.points'" in refused.stderr


def test_label_studio_keypoints_one_set_per_annotation(tmp_path):
    """KeyPointLabels: one named point per region; the config's label order is the
    keypoint order (the sigmas are then the mean COCO sigma: 3 keypoints, not 17)."""
    from labelaudit.io import read_export

    config = tmp_path / "config.xml"
    config.write_text(
        '<View><Image name="image" value="$image"/><KeyPointLabels name="pose" '
        'toName="image"><Label value="head"/><Label value="hand"/><Label value="foot"/>'
        "</KeyPointLabels></View>"
    )
    points = {1: {"head": (50, 10), "foot": (50, 90)}, 2: {"head": (50.5, 10), "foot": (50, 90)}}
    tasks = [{"id": 1, "data": {"image": "a.jpg"}, "annotations": [
        {"id": who, "completed_by": who, "result": [
            {"id": f"{who}{name}", "type": "keypointlabels", "from_name": "pose",
             "to_name": "image", "original_width": 200, "original_height": 100,
             "value": {"x": x, "y": y, "width": 0.5, "keypointlabels": [name]}}
            for name, (x, y) in marked.items()]}
        for who, marked in points.items()]}]  # fmt: skip
    export = tmp_path / "export.json"
    export.write_text(json.dumps(tasks))
    table, _ = read_export(export, label_config=str(config))
    assert table.task == "keypoints"
    first = table.payload.to_pylist()[0][0]
    assert first["keypoints"] == [100, 10, 2, 0, 0, 0, 100, 90, 2] and first["label"] == "pose"
    found = structured_metrics(table, ci="none")
    # head 1 px apart, foot identical; no area given: the boxes of the marked points
    # (0 x 80 and 1 x 80), s^2 their mean 40; sigma the mean COCO sigma (0.0669)
    sigma = COCO_PERSON_SIGMAS.mean()
    want = (math.exp(-1.0 / (2 * 40 * (2 * sigma) ** 2)) + 1.0) / 2.0
    assert found["mean_oks"].value == pytest.approx(want, abs=1e-12)
    result = runner.invoke(app, ["agreement", str(export)])
    assert result.exit_code == 2 and "keypoints without the label config" in result.stderr
