import polars as pl
import pytest
from polars.testing import assert_frame_equal

from schemas.contract import ContractSplit
from transforms.quarantine import quarantine_conflicting_duplicates, quarantine_dependents

REASONS = pl.List(pl.String)


def profiles(
    valid: list[tuple[str, str]], rejected: list[tuple[str, str, list[str]]]
) -> ContractSplit:
    """valid: (handle, as_of); rejected: (handle, as_of, failed_checks)."""
    return ContractSplit(
        valid=pl.DataFrame(valid, schema={"handle": pl.String, "as_of": pl.String}, orient="row"),
        rejected=pl.DataFrame(
            rejected,
            schema={"handle": pl.String, "as_of": pl.String, "failed_checks": REASONS},
            orient="row",
        ),
    )


def media(
    valid: list[tuple[int, str, str]], rejected: list[tuple[int, str, str, list[str]]] | None = None
) -> ContractSplit:
    """valid: (line_number, handle, as_of); rejected: the same plus failed_checks."""
    schema = {"line_number": pl.Int64, "handle": pl.String, "as_of": pl.String}
    return ContractSplit(
        valid=pl.DataFrame(valid, schema=schema, orient="row"),
        rejected=pl.DataFrame(
            rejected or [], schema={**schema, "failed_checks": REASONS}, orient="row"
        ),
    )


def test_rows_of_a_quarantined_or_missing_profile_follow_it_with_its_reason() -> None:
    parents = profiles(
        valid=[("ann", "2026-10-18"), ("bob", "2026-10-18")],
        rejected=[
            ("cid", "2026-10-18", ["followers_count: implausible count (10^15 > 10^10)"]),
            (
                "cid",
                "2026-10-18",
                ["account_id: digits_id (got x)", "name: not_nullable (got nothing)"],
            ),
            ("bob", "2026-10-17", ["media_count: negative count (-1)"]),
        ],
    )
    children = media(
        valid=[
            (1, "ann", "2026-10-18"),
            (2, "cid", "2026-10-18"),
            (3, "bob", "2026-10-18"),
            (4, "dee", "2026-10-18"),
            (5, "bob", "2026-10-17"),
        ],
        rejected=[(6, "ann", "2026-10-18", ["like_count: negative count (-3)"])],
    )

    result = quarantine_dependents(children, parents, parent="profile")

    assert_frame_equal(
        result.valid, media(valid=[(1, "ann", "2026-10-18"), (3, "bob", "2026-10-18")]).valid
    )
    assert_frame_equal(
        result.rejected,
        media(
            valid=[],
            rejected=[
                (6, "ann", "2026-10-18", ["like_count: negative count (-3)"]),
                (
                    2,
                    "cid",
                    "2026-10-18",
                    [
                        "profile: quarantined (account_id: digits_id (got x); "
                        "followers_count: implausible count (10^15 > 10^10); "
                        "name: not_nullable (got nothing))"
                    ],
                ),
                (4, "dee", "2026-10-18", ["profile: none landed for this account and date"]),
                (
                    5,
                    "bob",
                    "2026-10-17",
                    ["profile: quarantined (media_count: negative count (-1))"],
                ),
            ],
        ).rejected,
        check_row_order=False,
    )


def test_a_valid_profile_outweighs_a_quarantined_copy_of_it() -> None:
    parents = profiles(
        valid=[("ann", "2026-10-18")],
        rejected=[("ann", "2026-10-18", ["item: not a JSON object (got 1)"])],
    )
    children = media(valid=[(1, "ann", "2026-10-18")])

    result = quarantine_dependents(children, parents, parent="profile")

    assert_frame_equal(result.valid, children.valid)
    assert result.rejected.is_empty()


def posts(rows: list[tuple[str, int, str, str, str | None]]) -> pl.DataFrame:
    """rows: (landed_file, line_number, post_id, comments_count, like_count)."""
    return pl.DataFrame(
        [(f, n, post, "2026-10-18", comments, likes) for f, n, post, comments, likes in rows],
        schema={
            "landed_file": pl.String,
            "line_number": pl.Int64,
            "post_id": pl.String,
            "as_of": pl.String,
            "comments_count": pl.String,
            "like_count": pl.String,
        },
        orient="row",
    )


def split_of(valid: pl.DataFrame) -> ContractSplit:
    return ContractSplit(
        valid=valid, rejected=valid.clear().with_columns(failed_checks=pl.lit(None, REASONS))
    )


@pytest.mark.parametrize(
    ("rows", "kept_lines", "expected_reasons"),
    [
        (
            [("a", 12, "123", "4", "10"), ("a", 57, "123", "5", "10")],
            [57],
            {12: "duplicate: post 123 landed again with other counts; kept line 57"},
        ),
        (
            [("a", 57, "123", "4", "10"), ("a", 12, "123", "4", None)],
            [57],
            {12: "duplicate: post 123 landed again with other counts; kept line 57"},
        ),
        (
            [("b", 3, "123", "4", "10"), ("a", 57, "123", "9", "10")],
            [3],
            {57: "duplicate: post 123 landed again with other counts; kept line 3 of b"},
        ),
        (
            [("a", 1, "123", "4", None), ("a", 2, "123", "4", None), ("a", 3, "9", "1", "1")],
            [1, 2, 3],
            {},
        ),
        (
            [("a", 1, "123", "4", "1"), ("a", 2, "123", "4", "1"), ("a", 3, "123", "5", "1")],
            [3],
            {
                1: "duplicate: post 123 landed again with other counts; kept line 3",
                2: "duplicate: post 123 landed again with other counts; kept line 3",
            },
        ),
    ],
    ids=[
        "later-line-wins",
        "hidden-likes-differ-from-shown",
        "later-file-wins",
        "exact-repeats-stay-for-the-loader",
        "two-losers-against-one",
    ],
)
def test_conflicting_duplicates_keep_the_last_landed_and_name_it(
    rows: list[tuple[str, int, str, str, str | None]],
    kept_lines: list[int],
    expected_reasons: dict[int, str],
) -> None:
    result = quarantine_conflicting_duplicates(
        split_of(posts(rows)),
        key=["post_id", "as_of"],
        counts=["like_count", "comments_count"],
        noun="post",
    )

    assert result.valid["line_number"].to_list() == kept_lines
    assert (
        dict(
            zip(
                result.rejected["line_number"].to_list(),
                [reasons[0] for reasons in result.rejected["failed_checks"].to_list()],
                strict=True,
            )
        )
        == expected_reasons
    )
    assert result.valid.columns == posts([]).columns
    assert result.rejected.columns == [*posts([]).columns, "failed_checks"]


def test_earlier_rejections_are_kept_and_the_same_post_on_another_date_is_no_duplicate() -> None:
    first = posts([("a", 1, "123", "4", "10")])
    next_day = posts([("a", 2, "123", "6", "11")]).with_columns(as_of=pl.lit("2026-10-19"))
    earlier = (
        first.clear()
        .with_columns(failed_checks=pl.lit(None, REASONS))
        .vstack(
            posts([("a", 9, "77", "x", "1")]).with_columns(
                failed_checks=pl.lit(["comments_count: non_negative_integer (got x)"])
            )
        )
    )

    result = quarantine_conflicting_duplicates(
        ContractSplit(valid=pl.concat([first, next_day]), rejected=earlier),
        key=["post_id", "as_of"],
        counts=["like_count", "comments_count"],
        noun="post",
    )

    assert_frame_equal(result.valid, pl.concat([first, next_day]))
    assert_frame_equal(result.rejected, earlier)
