"""How Graph API answers are judged: error objects in any status, and the usage headers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sources.http import ApiError, FailureKind
from sources.instagram.client import is_permission_error, read_graph_error, usage_pause_seconds


def graph_error(code: Any, message: str = "boom") -> dict[str, Any]:
    return {"error": {"message": message, "type": "OAuthException", "code": code}}


@pytest.mark.parametrize(
    ("status", "body", "kind", "code"),
    [
        (400, graph_error(190), FailureKind.AUTH, "190"),
        (200, graph_error(190), FailureKind.AUTH, "190"),
        (400, graph_error("190"), FailureKind.AUTH, "190"),
        (400, graph_error(110), FailureKind.ACCOUNT, "110"),
        (400, graph_error(4), FailureKind.RETRY, "4"),
        (200, graph_error("4"), FailureKind.RETRY, "4"),
        (400, graph_error(" 17 "), FailureKind.RETRY, "17"),
        (403, graph_error(32), FailureKind.RETRY, "32"),
        (400, graph_error(613), FailureKind.RETRY, "613"),
        (500, graph_error(2), FailureKind.RETRY, "2"),
        (503, graph_error(100), FailureKind.RETRY, "100"),
        (400, graph_error(100), FailureKind.ACCOUNT, "100"),
        (400, graph_error(10), FailureKind.ACCOUNT, "10"),
        (400, graph_error("not a code"), FailureKind.ACCOUNT, None),
        (400, graph_error(True), FailureKind.ACCOUNT, None),
    ],
    ids=[
        "190 token refused",
        "190 in an HTTP 200",
        "190 as a string",
        "110 unknown user",
        "4 app throttled",
        "4 as a string in an HTTP 200",
        "17 padded string",
        "32 page throttled",
        "613 throttled",
        "2 transient in a 500",
        "unknown code in a 503",
        "100 bad parameter",
        "10 no permission",
        "code that is not a number",
        "code that is a boolean",
    ],
)
def test_graph_errors_are_judged_by_code_whatever_the_status(
    status: int, body: Any, kind: FailureKind, code: str | None
) -> None:
    error = read_graph_error(status, body)

    assert error is not None
    assert (error.kind, error.status, error.code) == (kind, status, code)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"id": "1", "username": "ana"}),
        (200, [{"error": {"code": 190}}]),
        (200, None),
        (200, {"error": "a string, not an object"}),
        (500, None),
    ],
    ids=["profile", "a list", "not JSON", "error is not an object", "500 without JSON"],
)
def test_answers_without_a_graph_error_object_are_left_to_the_client(
    status: int, body: Any
) -> None:
    assert read_graph_error(status, body) is None


def test_the_messages_say_what_happened() -> None:
    refused = read_graph_error(400, graph_error(190, "Error validating access token"))
    unknown = read_graph_error(400, graph_error(110, "Invalid user id"))
    silent = read_graph_error(400, {"error": {"code": 1}})

    assert refused is not None and unknown is not None and silent is not None
    assert refused.message == "access token refused: Error validating access token"
    assert unknown.message == (
        "not found: not a business or creator account, or the handle changed (Invalid user id)"
    )
    assert silent.message == "no message"


@pytest.mark.parametrize(
    ("code", "expected"),
    [("10", True), ("200", True), ("190", False), (None, False)],
    ids=["10", "200", "190", "no code"],
)
def test_permission_errors_are_codes_10_and_200(code: str | None, expected: bool) -> None:
    error = ApiError("no permission", kind=FailureKind.ACCOUNT, code=code)

    assert is_permission_error(error) is expected


def business_usage(**entry: Any) -> str:
    return json.dumps({"17841400000000001": [{"type": "instagram", **entry}]})


@pytest.mark.parametrize(
    ("headers", "pause"),
    [
        ({}, 0.0),
        ({"X-App-Usage": json.dumps({"call_count": 12, "total_time": 3})}, 0.0),
        ({"X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 95})}, 0.0),
        ({"X-App-Usage": json.dumps({"call_count": 101})}, 0.0),
        ({"X-App-Usage": "not json"}, 0.0),
        ({"X-Business-Use-Case-Usage": business_usage(call_count=95)}, 0.0),
        (
            {
                "X-Business-Use-Case-Usage": business_usage(
                    call_count=100, estimated_time_to_regain_access=3
                )
            },
            180.0,
        ),
        (
            {
                "X-App-Usage": json.dumps({"call_count": 95}),
                "X-Business-Use-Case-Usage": business_usage(
                    call_count=40, estimated_time_to_regain_access=1
                ),
            },
            60.0,
        ),
        ({"X-Business-Use-Case-Usage": json.dumps({"1": "not a list"})}, 0.0),
        ({"X-Business-Use-Case-Usage": json.dumps({"1": ["not an object"]})}, 0.0),
    ],
    ids=[
        "no usage headers",
        "app usage low",
        "app cpu time near the limit: paced, not paused",
        "app calls over the limit: no time to regain given",
        "app usage not JSON",
        "business calls near the limit: paced, not paused",
        "business access regained in 3 minutes",
        "regained in a minute, whatever the app usage",
        "business usage not a list",
        "business usage entry not an object",
    ],
)
def test_only_a_throttled_business_use_case_pauses_every_call_until_it_is_regained(
    headers: dict[str, str], pause: float
) -> None:
    assert usage_pause_seconds(headers) == pause
