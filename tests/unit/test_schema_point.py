"""Point's field layout and the acceptance formulas shared by the model and the export."""

from __future__ import annotations

import pytest

from specscope.schema import (
    AcceptanceCounts,
    Measurement,
    Point,
    PointIdentity,
    acceptance_length,
    draft_acceptance_rate,
)


def test_point_fields_are_identity_then_measurement_then_provenance() -> None:
    expected = [*PointIdentity.model_fields, *Measurement.model_fields, "provenance"]
    assert list(Point.model_fields) == expected
    assert list(PointIdentity.model_fields) == ["run_id", "config", "repeat"]


@pytest.mark.parametrize(
    ("drafts", "accepted", "reported", "al"),
    [
        (4, 6, None, 2.5),  # 1 + 6/4
        (4, 6, 3.0, 2.5),  # counts win over the reported average
        (0, 6, 3.0, 3.0),  # no drafts: the reported AL
        (None, 6, None, None),
        (4, None, 1.75, 1.75),
    ],
)
def test_acceptance_length(
    drafts: int | None, accepted: int | None, reported: float | None, al: float | None
) -> None:
    assert acceptance_length(drafts, accepted, reported) == al
    counts = AcceptanceCounts(
        drafts=drafts, accepted_tokens=accepted, reported_acceptance_length=reported
    )
    assert counts.acceptance_length == al


@pytest.mark.parametrize(
    ("drafted", "accepted", "rate"),
    [(8, 6, 0.75), (0, 6, None), (None, 6, None), (8, None, None), (8, 0, 0.0)],
)
def test_draft_acceptance_rate(
    drafted: int | None, accepted: int | None, rate: float | None
) -> None:
    assert draft_acceptance_rate(drafted, accepted) == rate
    counts = AcceptanceCounts(draft_tokens=drafted, accepted_tokens=accepted)
    assert counts.draft_acceptance_rate == rate
