"""Point identity for imports and merges: the configuration, and what was measured there.

A point whose results are stored already adds nothing; another result for a stored
configuration is kept as its next repeat, with its source (:data:`KEPT_AS_REPEAT`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from specscope.schema import Point, PointIdentity
from specscope.store.codec import finite

_M = TypeVar("_M", bound=BaseModel)


class AddOutcome(BaseModel):
    """What :meth:`Store.add_measurements` did with a batch of points."""

    model_config = ConfigDict(frozen=True)

    added: int = 0
    """Points written that were not stored before, ``kept_as_repeats`` included."""
    kept_as_repeats: int = 0
    """Of ``added``: points whose configuration (run and config) was already stored with other
    results; each was kept under the next free repeat number, with its source."""
    already_present: int = 0
    """Points whose very results were already stored (or came twice in the batch); not written."""
    point_ids: list[str] = Field(default_factory=list)
    """Per input point, in input order: the id it is stored under (its own, its new repeat's, or
    that of the stored point with the same results)."""


def describe_added(added: int, kept_as_repeats: int, already_present: int) -> str:
    """The counts of an import or merge in words, e.g. ``2 new, 1 kept as another repeat of an
    existing configuration, 5 already present`` (``added`` includes ``kept_as_repeats``)."""
    parts = [f"{added - kept_as_repeats} new"]
    if kept_as_repeats == 1:
        parts.append("1 kept as another repeat of an existing configuration")
    elif kept_as_repeats > 1:
        parts.append(f"{kept_as_repeats} kept as further repeats of existing configurations")
    parts.append(f"{already_present} already present")
    return ", ".join(parts)


KEPT_AS_REPEAT = "kept_as_repeat"
"""``provenance.extra`` key set on a point that an import or merge kept as another repeat,
because its run and config were already stored with other results: ``{"of": <the stored point
id it met>, "source": <the file or store it came from>}``. Bookkeeping, not a measurement."""

_BOOKKEEPING_EXTRA = frozenset({KEPT_AS_REPEAT})
_IDENTITY_FIELDS = frozenset({*PointIdentity.model_fields, "point_id"})


def configuration_key(point: Point) -> tuple[str, str]:
    """(run id, config as canonical JSON): what the repeats of one operating point share."""
    config = json.dumps(point.config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return point.run_id, config


def measurement_digest(point: Point) -> str:
    """A digest of what was measured at ``point``: every field except its identity (run,
    config, repeat) and where this copy came from (``source_file``, bookkeeping keys of
    ``extra``). The same record imported from another path, or a point read back from a store,
    has the same digest; any other number, latency, acceptance count or kept key changes it."""
    data = point.model_dump(mode="json", exclude=set(_IDENTITY_FIELDS))
    provenance = data["provenance"]
    provenance.pop("source_file", None)
    provenance["extra"] = {
        k: v for k, v in provenance["extra"].items() if k not in _BOOKKEEPING_EXTRA
    }
    # as stored: non-finite floats are not JSON and become null in the extra column
    blob = json.dumps(finite(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class Placement(BaseModel):
    """Where one incoming point goes (see :func:`place_measurements`)."""

    model_config = ConfigDict(frozen=True)

    point: Point
    """The point as it is (or was already) stored: renumbered when kept as another repeat."""
    write: bool
    """False when the same results are stored already."""
    kept_as_repeat: bool = False


def _replaced(model: _M, **update: Any) -> _M:
    """``model`` with some fields replaced, without validation. ``model_copy(update=...)``
    cannot be used on models read from the store: they share one frozen fields-set."""
    values = {name: getattr(model, name) for name in type(model).model_fields}
    values.update(update)
    return type(model).model_construct(_fields_set=set(values), **values)


def place_measurements(
    stored: Iterable[Point], incoming: Iterable[Point], source: str | None = None
) -> list[Placement]:
    """Decide, without writing, where each of ``incoming`` goes among ``stored`` points.

    Per configuration key (run and config): a point whose results (:func:`measurement_digest`)
    are stored under any repeat is already present; otherwise it keeps its own repeat number when
    that is free, or else becomes the next repeat (highest stored + 1) with
    ``extra[KEPT_AS_REPEAT] = {"of": <id it met>, "source": source or its source_file}``.
    Earlier points of ``incoming`` count as stored for later ones.
    """
    repeats: dict[tuple[str, str], dict[int, str]] = {}
    """Per key: repeat number → digest."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    """Per key: digest → repeat number."""
    for point in stored:
        key, digest = configuration_key(point), measurement_digest(point)
        repeats.setdefault(key, {})[point.repeat] = digest
        found.setdefault(key, {}).setdefault(digest, point.repeat)
    out: list[Placement] = []
    for point in incoming:
        key, digest = configuration_key(point), measurement_digest(point)
        taken = repeats.setdefault(key, {})
        same = found.setdefault(key, {})
        if digest in same:
            stored_as = _replaced(point, repeat=same[digest])
            out.append(Placement(point=stored_as, write=False))
            continue
        if point.repeat not in taken:
            taken[point.repeat] = digest
            same[digest] = point.repeat
            out.append(Placement(point=point, write=True))
            continue
        repeat = max(taken) + 1
        extra = dict(point.provenance.extra)
        extra[KEPT_AS_REPEAT] = {
            "of": point.point_id,
            "source": source if source is not None else point.provenance.source_file,
        }
        provenance = _replaced(point.provenance, extra=extra)
        kept = _replaced(point, repeat=repeat, provenance=provenance)
        taken[repeat] = digest
        same[digest] = repeat
        out.append(Placement(point=kept, write=True, kept_as_repeat=True))
    return out
