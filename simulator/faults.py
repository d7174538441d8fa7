"""What goes wrong on a simulated platform: `FaultConfig`, one per dialect.

Rates, slow answers, malformed records and down dates are drawn the same way by every
dialect; `account_faults` names what one account's requests get, from the list of fault
names its dialect documents (the Graph dialect's are in `simulator.graph`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from types import MappingProxyType
from typing import Any

# Where a `redirect_other_host` account fault sends a client: another address of the loopback
# network (Linux routes all of 127.0.0.0/8 there), on the same port. The simulator listens
# there too, to count the requests (and tokens) that followed.
OTHER_LOOPBACK_HOST = "127.0.0.2"
REDIRECT_FAULT = "redirect_other_host"


@dataclass(frozen=True)
class FaultConfig:
    """What goes wrong on one simulated platform (nothing, by default).

    `error_rate`: share of requests answered with a transient fault (HTTP 429/500/502/503
    or a throttling error), never more than `max_consecutive_errors` times in a row for
    the same logical request. `slow_rate`: share of answers delayed by `slow_seconds`.
    `malformed_rate`: share of records (profiles, media items) corrupted, the same ones on
    every run. `down_dates`: as_of dates on which every request gets HTTP 503. `seed`
    fixes which requests fail and which records are corrupt.

    `account_faults`: account (an Instagram handle, a YouTube channel id) -> the name of
    the fault every request about that account gets; the names are the dialect's own
    (see `simulator.graph.GRAPH_ACCOUNT_FAULTS`). `slow_seconds` is also the delay of the
    `slow` account fault; `trickle_seconds` the pause between two bytes of a `trickle`d
    answer (a real misbehaving proxy: ~2 s; a test: a few milliseconds).
    """

    error_rate: float = 0.0
    max_consecutive_errors: int = 2
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    malformed_rate: float = 0.0
    down_dates: frozenset[date] = field(default_factory=frozenset)
    seed: int = 0
    account_faults: Mapping[str, str] = field(default_factory=dict, hash=False)
    trickle_seconds: float = 2.0

    def __post_init__(self) -> None:
        for name in ("error_rate", "slow_rate", "malformed_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {rate}")
        if self.max_consecutive_errors < 0:
            raise ValueError("max_consecutive_errors must not be negative")
        for name in ("slow_seconds", "trickle_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        # Read-only, and a copy: the caller's dict may change after the server started.
        object.__setattr__(self, "down_dates", frozenset(self.down_dates))
        object.__setattr__(self, "account_faults", MappingProxyType(dict(self.account_faults)))

    def to_json(self) -> dict[str, Any]:
        """The fields as JSON values (dates as YYYY-MM-DD), for a simulator process."""
        values = {spec.name: getattr(self, spec.name) for spec in fields(self)}
        values["down_dates"] = sorted(day.isoformat() for day in self.down_dates)
        values["account_faults"] = dict(self.account_faults)
        return values

    @classmethod
    def from_json(cls, values: Mapping[str, Any]) -> FaultConfig:
        """The inverse of `to_json`; unknown fields are a ValueError naming them."""
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"unknown FaultConfig fields {unknown}; expected some of {sorted(known)}"
            )
        parsed = dict(values)
        if "down_dates" in parsed:
            parsed["down_dates"] = frozenset(date.fromisoformat(d) for d in parsed["down_dates"])
        return cls(**parsed)


# The default of every `faults` parameter: nothing goes wrong.
NO_FAULTS = FaultConfig()
