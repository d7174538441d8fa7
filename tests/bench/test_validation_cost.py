"""bench/validation_cost.py: its SQL sketch of the media checks judges as Pandera's contract does,
so the two costs it compares are of the same work."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.validation_cost import measure_file, run


def media(post_id: str, **overrides: object) -> str:
    record: dict[str, object] = {
        "_handle": "ann",
        "_as_of": "2026-11-01",
        "_account_id": "1784",
        "id": post_id,
        "timestamp": "2026-10-30T10:00:00+0000",
        "media_type": "IMAGE",
        "like_count": 40,
        "comments_count": 2,
        "permalink": "https://www.instagram.com/p/x",
        "caption": "a/../../etc/passwd ünïcode",
    }
    record.update(overrides)
    return json.dumps({key: value for key, value in record.items() if value is not None})


def test_the_sql_checks_and_pandera_find_the_same_records_valid(tmp_path: Path) -> None:
    lines = [
        media("1"),
        media("2", like_count=None),  # hidden likes: valid
        media("3", like_count=-3),
        media("4", comments_count=10**15),
        media("5", like_count="abc"),
        media("6", comments_count=None),
        media("7", timestamp="2026-11-02T00:00:00+0000"),  # after the night
        media("8", timestamp="yesterday"),
        media("9", media_type="REEL"),
        media("x9"),
        media("10", _account_id=None),
        media("11", _as_of="01/11/2026"),
        media("12", like_count=1.5),
    ]
    path = tmp_path / "media.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as landed:
        landed.write("\n".join(lines) + "\n")

    measured = measure_file(path)

    assert measured["valid"] == 2
    assert {step["rows"] for step in measured["steps"].values()} == {len(lines)}


def test_the_quick_run_measures_every_step() -> None:
    results = run(quick=True)

    (scale,) = results["scales"]
    assert len(scale["steps"]) == 6
    assert all(step["seconds"] > 0 for step in scale["steps"].values())
