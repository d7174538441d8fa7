"""The ``land`` callback the source tests give an extract: it keeps every record, in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Landed:
    records: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, entity: str, record: Mapping[str, Any]) -> None:
        self.records.append((entity, dict(record)))

    def of(self, entity: str) -> list[dict[str, Any]]:
        return [record for name, record in self.records if name == entity]

    def handles(self, entity: str = "profiles") -> list[str]:
        return [record["_handle"] for name, record in self.records if name == entity]
