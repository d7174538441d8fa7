import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from sources.landing import LandingError, land_run, latest_manifest, read_landed_lines

DATE = dt.date(2026, 11, 20)


def test_landed_records_read_back_line_by_line_with_a_manifest(tmp_path: Path) -> None:
    records = [{"id": "1", "n": 2}, {"id": "2", "text": "café"}]

    manifest = land_run(
        tmp_path,
        "instagram_graph",
        DATE,
        "20261121T020000Z-aaaaaa",
        {"media": records, "audience": []},
        notes=["x (audience): none"],
    )

    assert latest_manifest(tmp_path, "instagram_graph", DATE) == manifest
    media = manifest.file_for("media")
    assert media.path == "instagram_graph/media/date=2026-11-20/20261121T020000Z-aaaaaa.jsonl.gz"
    assert media.records == 2
    assert [(n, json.loads(text)) for n, text in read_landed_lines(tmp_path, media)] == [
        (1, records[0]),
        (2, records[1]),
    ]
    assert list(read_landed_lines(tmp_path, manifest.file_for("audience"))) == []


def test_the_latest_complete_landing_wins_and_an_unfinished_one_is_ignored(
    tmp_path: Path,
) -> None:
    land_run(tmp_path, "s", DATE, "20261121T020000Z-aaaaaa", {"media": [{"id": "1"}]})
    second = land_run(tmp_path, "s", DATE, "20261121T030000Z-bbbbbb", {"media": [{"id": "2"}]})
    unfinished = tmp_path / "s/media/date=2026-11-20/20261121T040000Z-cccccc.jsonl.gz"
    unfinished.write_bytes(gzip.compress(b'{"id": "3"}\n'))

    assert latest_manifest(tmp_path, "s", DATE) == second
    assert latest_manifest(tmp_path, "s", DATE + dt.timedelta(days=1)) is None


def test_the_same_records_land_as_the_same_bytes(tmp_path: Path) -> None:
    first = land_run(tmp_path / "a", "s", DATE, "r1", {"media": [{"b": 1, "a": 2}]})
    second = land_run(tmp_path / "b", "s", DATE, "r1", {"media": [{"a": 2, "b": 1}]})

    assert first.file_for("media").sha256 == second.file_for("media").sha256


def test_a_tampered_file_is_refused_naming_it(tmp_path: Path) -> None:
    manifest = land_run(tmp_path, "s", DATE, "r1", {"media": [{"id": "1"}]})
    landed = manifest.file_for("media")
    (tmp_path / landed.path).write_bytes(gzip.compress(b'{"id": "666"}\n'))

    with pytest.raises(LandingError, match=r"r1\.jsonl\.gz does not match its manifest"):
        list(read_landed_lines(tmp_path, landed))
