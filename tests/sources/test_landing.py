import datetime as dt
import gzip
import hashlib
import json
import os
import threading
import time
from pathlib import Path

import pytest

from sources.landing import (
    LandedFile,
    LandingError,
    LandingWriter,
    discard_partial_landings,
    land_run,
    latest_manifest,
    read_landed_batches,
    read_landed_lines,
    verify_landed_file,
)

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


def test_unfinished_landings_of_killed_runs_are_discarded_once_old_enough(
    tmp_path: Path,
) -> None:
    complete = land_run(tmp_path, "s", DATE, "20261121T020000Z-aaaaaa", {"media": [{"id": "1"}]})
    media = tmp_path / "s/media/date=2026-11-20"
    in_place = media / "20261121T030000Z-bbbbbb.jsonl.gz"  # killed before its manifest
    in_place.write_bytes(gzip.compress(b'{"id": "2"}\n'))
    temporary = media / ".20261121T030000Z-bbbbbb.jsonl.gz.tmp"  # killed while landing
    temporary.write_bytes(b"")
    manifest = tmp_path / "s/_manifests/date=2026-11-20/.20261121T030000Z-bbbbbb.json.tmp"
    manifest.write_bytes(b"{")
    landing_now = media / ".20261121T040000Z-cccccc.jsonl.gz.tmp"  # a run landing right now
    an_hour_ago = time.time() - 3600
    for path in tmp_path.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    thirty_minutes_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=30)
    landing_now.write_bytes(b"")

    discarded = discard_partial_landings(tmp_path, older_than=thirty_minutes_ago)

    assert sorted(discarded) == sorted([in_place, temporary, manifest])
    assert landing_now.exists()
    assert latest_manifest(tmp_path, "s", DATE) == complete
    verify_landed_file(tmp_path, complete.file_for("media"))
    assert (
        discard_partial_landings(tmp_path / "nothing-landed", older_than=thirty_minutes_ago) == []
    )


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


def test_records_landed_from_several_threads_all_land_once(tmp_path: Path) -> None:
    with LandingWriter(tmp_path, "s", DATE, "r1", ["media", "profiles"]) as writer:

        def land_from_thread(thread: int) -> None:
            for number in range(250):
                writer.land("media", {"thread": thread, "n": number})
            writer.land("profiles", {"thread": thread})

        threads = [threading.Thread(target=land_from_thread, args=(t,)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        manifest = writer.finish(notes=["a note"], extract={"accounts": 8})

    media = manifest.file_for("media")
    landed = sorted(
        (record["thread"], record["n"])
        for record in (json.loads(text) for _, text in read_landed_lines(tmp_path, media))
    )
    assert landed == [(t, n) for t in range(8) for n in range(250)]
    assert (media.records, manifest.file_for("profiles").records) == (2000, 8)
    assert (manifest.notes, manifest.extract) == (("a note",), {"accounts": 8})
    assert latest_manifest(tmp_path, "s", DATE) == manifest


def test_an_error_inside_the_landing_leaves_no_file_and_no_manifest(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="extraction broke"),
        LandingWriter(tmp_path, "s", DATE, "r1", ["media", "profiles"]) as writer,
    ):
        writer.land("media", {"id": "1"})
        raise RuntimeError("extraction broke")

    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []
    assert latest_manifest(tmp_path, "s", DATE) is None


def test_a_landing_left_without_finish_leaves_no_file(tmp_path: Path) -> None:
    with LandingWriter(tmp_path, "s", DATE, "r1", ["media"]) as writer:
        writer.land("media", {"id": "1"})

    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


def test_batches_keep_the_line_numbers_of_the_file_across_their_boundaries(
    tmp_path: Path,
) -> None:
    manifest = land_run(tmp_path, "s", DATE, "r1", {"media": [{"n": n} for n in range(1, 8)]})

    batches = list(read_landed_batches(tmp_path, manifest.file_for("media"), batch_lines=3))

    assert [numbers for numbers, _ in batches] == [[1, 2, 3], [4, 5, 6], [7]]
    assert [json.loads(text)["n"] for _, texts in batches for text in texts] == list(range(1, 8))


def test_a_blank_line_keeps_the_numbers_of_the_lines_after_it(tmp_path: Path) -> None:
    manifest = land_run(tmp_path, "s", DATE, "r1", {"media": [{"n": 1}]})
    landed = manifest.file_for("media")
    path = tmp_path / landed.path
    path.write_bytes(gzip.compress(b'{"n": 1}\n\n{"n": 3}\n'))
    rewritten = LandedFile(
        landed.entity, landed.path, 2, hashlib.sha256(path.read_bytes()).hexdigest()
    )

    assert list(read_landed_batches(tmp_path, rewritten, batch_lines=10)) == [
        ([1, 3], ['{"n": 1}', '{"n": 3}'])
    ]


def test_an_entity_the_source_does_not_land_is_refused_naming_the_ones_it_does(
    tmp_path: Path,
) -> None:
    with LandingWriter(tmp_path, "s", DATE, "r1", ["media", "profiles"]) as writer:
        with pytest.raises(
            LandingError, match=r"s has no entity 'stories'; it lands \['media', 'profiles'\]"
        ):
            writer.land("stories", {"id": "1"})
        manifest = writer.finish()

    with pytest.raises(LandingError, match=r"landing r1 of s for 2026-11-20 has no 'stories' file"):
        manifest.file_for("stories")


def test_a_missing_landed_file_is_refused_naming_it(tmp_path: Path) -> None:
    manifest = land_run(tmp_path, "s", DATE, "r1", {"media": [{"id": "1"}]})
    landed = manifest.file_for("media")
    (tmp_path / landed.path).unlink()

    with pytest.raises(LandingError, match=r"r1\.jsonl\.gz is missing; re-extract this date"):
        verify_landed_file(tmp_path, landed)
