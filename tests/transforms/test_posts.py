import datetime as dt

import polars as pl

from transforms.facts import dim_post, fact_post_metrics
from transforms.staging.instagram import stage_posts


def test_hidden_likes_stay_null_and_times_become_utc() -> None:
    media = pl.LazyFrame(
        {
            "landed_file": ["m"] * 3,
            "line_number": [1, 2, 3],
            "handle": ["maya.bakes"] * 3,
            "as_of": ["2026-11-20"] * 3,
            "account_id": ["1"] * 3,
            "post_id": ["10", "11", "10"],
            "timestamp": [
                "2026-11-19T23:30:00+0000",
                "2026-11-20T01:00:00+0200",
                "2026-11-19T23:30:00+0000",
            ],
            "media_type": ["IMAGE", "VIDEO", "IMAGE"],
            "like_count": ["100", None, "120"],
            "comments_count": ["5", "7", "6"],
            "caption": ["Sunday bake #glowco", None, "Sunday bake #glowco #ad"],
            "permalink": ["https://www.instagram.com/p/A/", None, "https://www.instagram.com/p/A/"],
        }
    )

    fact = fact_post_metrics(stage_posts(media)).collect()

    assert fact.select("post_id", "published_at", "likes", "comments").to_dicts() == [
        {
            "post_id": "10",
            "published_at": dt.datetime(2026, 11, 19, 23, 30),
            "likes": 120,
            "comments": 6,
        },
        {
            "post_id": "11",
            "published_at": dt.datetime(2026, 11, 19, 23, 0),
            "likes": None,
            "comments": 7,
        },
    ]
    assert fact["observed_date"].to_list() == [dt.date(2026, 11, 20)] * 2
    assert fact.select("shares", "saves", "views").null_count().row(0) == (2, 2, 2)


def test_dim_post_keeps_each_posts_latest_caption_and_link() -> None:
    media = pl.LazyFrame(
        {
            "landed_file": ["a", "a", "b"],
            "line_number": [1, 2, 1],
            "handle": ["maya.bakes"] * 3,
            "as_of": ["2026-11-19", "2026-11-19", "2026-11-20"],
            "account_id": ["1"] * 3,
            "post_id": ["10", "11", "10"],
            "timestamp": ["2026-11-18T10:00:00+0000"] * 3,
            "media_type": ["IMAGE"] * 3,
            "like_count": ["1"] * 3,
            "comments_count": ["1"] * 3,
            "caption": ["first words", "other post", "edited words #ad"],
            "permalink": ["https://www.instagram.com/p/A/", None, "https://www.instagram.com/p/A/"],
        }
    )

    posts = dim_post(stage_posts(media)).collect()

    assert posts.select("post_id", "caption", "permalink").rows() == [
        ("10", "edited words #ad", "https://www.instagram.com/p/A/"),
        ("11", "other post", None),
    ]
