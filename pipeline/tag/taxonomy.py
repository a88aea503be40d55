"""The tagging taxonomy: every case and lesson of the project, with what a tagger needs.

`pipeline/taxonomy.yaml` is parsed with yaml.safe_load into strict pydantic models
(extra="forbid"); every problem is reported at once, naming the file and the key path.
Ids are the canonical ids of reference/wij-in-de-wijk.yaml. The cue syntax is described at the
top of the YAML file and compiled by pipeline.tag.tagger.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline.archive import SAFE_LOADER
from pipeline.errors import ConfigError

DEFAULT_TAXONOMY = Path(__file__).with_name("taxonomy.yaml")

Status = Literal["found", "seeds", "inferred", "candidate", "not_found"]
BundleId = Literal["b1", "b2", "b3", "b4"]

_CONCEPT_REF = re.compile(r"@([a-z_]+)")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightedCues(Strict):
    """Cue patterns that each add `weight` to a label's score when found in a passage."""

    weight: float = Field(gt=0, le=1.0)
    cues: list[str] = Field(min_length=1)

    @field_validator("cues")
    @classmethod
    def _non_blank(cls, cues: list[str]) -> list[str]:
        for cue in cues:
            if not cue.strip():
                raise ValueError("empty cue pattern")
        return cues


class CaseEntry(Strict):
    """One neighbourhood initiative. `name` is None where the reference does not know it."""

    id: str
    name: str | None
    status: Status
    bundle: BundleId
    names: list[str] = Field(default_factory=list)  # decide alone
    people: list[str] = Field(default_factory=list)  # decide alone
    weak_names: list[str] = Field(default_factory=list)  # everyday words too: need support
    places: list[str] = Field(default_factory=list)  # need support; shared ones never decide
    neighbourhoods: list[str] = Field(default_factory=list)  # need support
    topics: list[WeightedCues] = Field(default_factory=list)  # need support
    note: str | None = None

    @property
    def taggable(self) -> bool:
        return bool(self.names or self.people or self.weak_names or self.places or self.neighbourhoods)


class LessonEntry(Strict):
    """A lesson or theme. Lessons whose content is unknown exist but are never tagged from text."""

    id: str
    bundle: BundleId | None = None
    number: int | None = None
    title: str | None = None
    status: Status
    taggable: bool = True
    cues: list[WeightedCues] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _cues_iff_taggable(self) -> LessonEntry:
        if self.taggable and not self.cues:
            raise ValueError(f"lesson {self.id} is taggable but has no cues")
        if not self.taggable and self.cues:
            raise ValueError(f"lesson {self.id} is not taggable but has cues")
        if self.taggable and self.title is None:
            raise ValueError(f"lesson {self.id} has no title (unknown content): set taggable: false")
        return self


class Taxonomy(Strict):
    """All cases and lessons, plus the shared vocabulary the cues refer to."""

    version: int
    context: list[str]
    bundle_markers: dict[BundleId, list[str]]
    concepts: dict[str, list[str]]
    cases: list[CaseEntry]
    lessons: list[LessonEntry]

    @model_validator(mode="after")
    def _consistent(self) -> Taxonomy:
        _check_unique([c.id for c in self.cases] + [lesson.id for lesson in self.lessons])
        for pattern in self._all_patterns():
            for name in _CONCEPT_REF.findall(pattern):
                if name not in self.concepts:
                    raise ValueError(f"cue {pattern!r} refers to unknown concept @{name}")
        return self

    def _all_patterns(self) -> list[str]:
        patterns = [p for lesson in self.lessons for group in lesson.cues for p in group.cues]
        patterns += [p for case in self.cases for group in case.topics for p in group.cues]
        return patterns

    @property
    def case_ids(self) -> list[str]:
        return [case.id for case in self.cases]

    @property
    def lesson_ids(self) -> list[str]:
        return [lesson.id for lesson in self.lessons]

    def case(self, case_id: str) -> CaseEntry:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)


def _check_unique(ids: list[str]) -> None:
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise ValueError(f"duplicate id {entry_id}")
        seen.add(entry_id)


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file (default: the one shipped with the package, read
    once per process: tagging and the site both need it). Treat the result as read-only.

    Raises ConfigError naming the file and every invalid key path.
    """
    return _read_taxonomy(Path(path)) if path is not None else _default_taxonomy()


@lru_cache(maxsize=1)
def _default_taxonomy() -> Taxonomy:
    return _read_taxonomy(DEFAULT_TAXONOMY)


def _read_taxonomy(path: Path) -> Taxonomy:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read taxonomy: {e}", path) from e
    try:
        return Taxonomy.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(_describe(e), path) from e


def _describe(error: ValidationError) -> str:
    """All validation problems on one line each: `cases.3.status: Input should be ...`."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        lines.append(f"{where}: {problem['msg']}")
    return "; ".join(lines)
