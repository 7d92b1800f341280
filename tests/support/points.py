"""Points for tests: one factory that fills in what a test does not care about."""

from __future__ import annotations

from typing import Any, Literal

from specscope.schema import OFF, Point, PointConfig, Provenance

CONFIG_DEFAULTS: dict[str, Any] = {
    "hardware": "b300",
    "model": "m",
    "engine": "vllm",
    "isl": 1024,
    "osl": 1024,
}
POINT_DEFAULTS: dict[str, Any] = {
    "run_id": "run-1",
    "throughput_per_gpu": 100.0,
    "interactivity": 50.0,
}


def make_point(**fields: Any) -> Point:
    """A Point from keyword arguments: those named like a :class:`PointConfig` field go to its
    config, the others to the Point; :data:`CONFIG_DEFAULTS` and :data:`POINT_DEFAULTS` fill in
    what is not given. A whole ``config=`` wins over config fields."""
    config = dict(CONFIG_DEFAULTS)
    point = dict(POINT_DEFAULTS)
    for name, value in fields.items():
        (config if name in PointConfig.model_fields else point)[name] = value
    point.setdefault("config", PointConfig(**config))
    return Point(**point)


def with_config(point: Point, **changes: Any) -> Point:
    """A copy of ``point`` with ``changes`` made to its config."""
    return point.model_copy(update={"config": point.config.model_copy(update=changes)})


def curve_point(method: str, conc: int, x: float, y: float, **fields: Any) -> Point:
    """A point of the ``method`` curve (the off curve for ``none``) at concurrency ``conc``:
    interactivity ``x``, throughput/GPU ``y``, draft depth 2 (0 when off) unless given."""
    fields.setdefault("draft_depth", 0 if method == OFF else 2)
    return make_point(
        spec_method=method, concurrency=conc, interactivity=x, throughput_per_gpu=y, **fields
    )


def repeated(method: str, rows: list[tuple[int, float, list[float]]], **fields: Any) -> list[Point]:
    """Points of the ``method`` curve from rows of (concurrency, interactivity, throughput/GPU
    of each repeat): one point per repeat, numbered from 0."""
    return [
        curve_point(method, conc, x, y, repeat=repeat, **fields)
        for conc, x, ys in rows
        for repeat, y in enumerate(ys)
    ]


# The compare tests' small worked example, (concurrency, interactivity, throughput/GPU): MTP
# 20–100 tok/s/user, Off 15–60, so the band both reach is 20–60.
EXAMPLE_SPEC = [(1, 100.0, 200.0), (4, 80.0, 600.0), (16, 50.0, 1200.0), (64, 20.0, 2000.0)]
EXAMPLE_OFF = [(1, 60.0, 150.0), (4, 50.0, 450.0), (16, 35.0, 800.0), (64, 15.0, 1100.0)]


def example_point(
    method: str,
    conc: int,
    intvty: float,
    tput: float,
    *,
    model: str = "qwen3.5",
    source: Literal["inferencex", "specscope", "predicted", "example"] = "specscope",
    **fields: Any,
) -> Point:
    """A qwen3.5 fp4 point of the ``method`` curve, as in the worked example."""
    provenance = Provenance(source=source)
    return curve_point(
        method, conc, intvty, tput, model=model, precision="fp4", provenance=provenance, **fields
    )


def example_points(engine: str = "vllm", **fields: Any) -> list[Point]:
    """The worked example on ``engine``: MTP (g = 2) at :data:`EXAMPLE_SPEC`, then Off at
    :data:`EXAMPLE_OFF`."""
    spec = [example_point("mtp", c, x, y, engine=engine, **fields) for c, x, y in EXAMPLE_SPEC]
    off = [example_point(OFF, c, x, y, engine=engine, **fields) for c, x, y in EXAMPLE_OFF]
    return spec + off
