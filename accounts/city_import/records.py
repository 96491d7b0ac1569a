"""What the three city files hold once read, and what is wrong with them (plain data, no database)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one feature or row: printed as `FILE: feature N: field: message`."""

    file: str
    where: str  # "feature 3", "row 7" (CSV rows count the header as row 1), or "file"
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Source:
    """A file as received: its name (for messages) and its bytes."""

    name: str
    content: bytes


@dataclass
class UnitRow:
    where: str
    code: str
    name: str
    parent: str  # the parent's code, "" for the city
    tier: int | None  # accounts.models.Tier, None when it cannot be told
    boundary: dict[str, Any] | None
    geometry: BaseGeometry | None = None  # set once the boundary is known to be valid
    ok: bool = True  # False: parse already reported a problem with this feature


@dataclass
class DepartmentRow:
    where: str
    code: str
    name: str
    type: str  # a type code or its Chinese name, as written
    unit: str


@dataclass
class PersonRow:
    where: str
    username: str
    full_name: str
    phone: str
    role: str
    unit: str
    department: str


@dataclass
class CityFiles:
    """The parsed files; a file not given is None (a city may import its units first, people later)."""

    units_file: str = ""
    departments_file: str = ""
    people_file: str = ""
    units: list[UnitRow] | None = None
    departments: list[DepartmentRow] | None = None
    people: list[PersonRow] | None = None
    problems: list[Problem] = field(default_factory=list)
    # Files that could not be read at all (not JSON, a missing column): rows referring to
    # what they hold cannot be judged, so no "unknown …" follows from them.
    unreadable: set[str] = field(default_factory=set)


@dataclass
class Counts:
    created: int = 0
    updated: int = 0


@dataclass
class ImportReport:
    """What an import found and did (or, with dry_run, would do)."""

    problems: list[Problem]
    dry_run: bool
    written: bool = False
    units: Counts = field(default_factory=Counts)
    departments: Counts = field(default_factory=Counts)
    department_types_added: list[str] = field(default_factory=list)
    users: Counts = field(default_factory=Counts)
    memberships: Counts = field(default_factory=Counts)
    new_usernames: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
