"""The flags compare and report share: which points (a :class:`Selection`) and how spec and off
are compared and priced (a :class:`CompareOptions`), declared once for both commands."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from inspect import Parameter
from typing import Annotated, Any, TypeVar

import typer

from specscope.app.options import CompareOptions, EconomicsOptions, Selection
from specscope.cli.common import floats

F = TypeVar("F", bound=Callable[..., Any])


def _flag(name: str, annotation: Any, default: Any = None) -> Parameter:
    return Parameter(name, Parameter.KEYWORD_ONLY, annotation=annotation, default=default)


SELECTION_FLAGS = [
    _flag("model", Annotated[str | None, typer.Option(help="Model key, e.g. qwen3.5.")]),
    _flag(
        "hardware",
        Annotated[str | None, typer.Option(help="Hardware key, e.g. b300, mi355x, cpu.")],
    ),
    _flag("precision", Annotated[str | None, typer.Option(help="fp4, fp8, bf16...")]),
    _flag(
        "sequence",
        Annotated[str | None, typer.Option(help="ISL/OSL, e.g. 1k/1k, 8k/1k or 1024/1024.")],
    ),
    _flag(
        "engine",
        Annotated[
            str | None,
            typer.Option(help="Only this engine (framework), e.g. vllm, sglang, trt, llamacpp."),
        ],
    ),
    _flag(
        "workload",
        Annotated[
            str | None,
            typer.Option(
                "--workload",
                help="Only points of this workload (the recipe's [[workload]] name, e.g. code "
                "or chat): acceptance, and so the answer, depends on the text.",
            ),
        ],
    ),
]
"""The point filters, after ``--spec``; each becomes the :class:`Selection` field of its name."""

COMPARING_FLAGS = [
    _flag(
        "pool",
        Annotated[
            bool,
            typer.Option(
                "--pool",
                help="Pool all engines and deployments (aggregated and disaggregated) into one "
                "curve per side (as the InferenceX pages do). Off by default: each engine and "
                "deployment is its own series.",
            ),
        ],
        False,
    ),
    _flag(
        "targets",
        Annotated[
            str | None,
            typer.Option(
                help="Target interactivities in tok/s/user, e.g. 40,60,80. Default: 25/50/75 % "
                "of the band."
            ),
        ],
    ),
    _flag(
        "preset",
        Annotated[
            str,
            typer.Option(
                help="Price/power preset (specscope presets lists them). 'auto' = the seed "
                "preset when it knows the hardware, else the newest that does."
            ),
        ],
        "auto",
    ),
    _flag(
        "usd_per_gpu_hour",
        Annotated[
            float | None,
            typer.Option("--usd-per-gpu-hour", help="Override the preset's $/GPU-hour."),
        ],
    ),
    _flag(
        "kw_per_gpu",
        Annotated[
            float | None,
            typer.Option("--kw-per-gpu", help="Override the preset's all-in kW per GPU."),
        ],
    ),
]
"""How the comparison is made and priced; together they become a :class:`CompareOptions`."""


def comparison_flags(spec: Any, spec_default: str | None) -> Callable[[F], F]:
    """Give a command ``--spec`` (annotated ``spec``, default ``spec_default``), the selection
    flags and the comparison flags, in that order.

    The command declares ``selection: Selection`` and ``comparing: CompareOptions`` where the
    flags go, and is called with them built from the flags.
    """
    spec_flag = _flag("spec", spec, spec_default)

    def decorate(func: F) -> F:
        own = inspect.signature(func, eval_str=True)
        params: list[Parameter] = []
        for param in own.parameters.values():
            if param.name == "selection":
                params += [spec_flag, *SELECTION_FLAGS]
            elif param.name == "comparing":
                params += COMPARING_FLAGS
            else:
                params.append(param.replace(kind=Parameter.KEYWORD_ONLY))

        @wraps(func)
        def command(**flags: Any) -> Any:
            selection = Selection(
                spec_method=flags.pop("spec"),
                **{p.name: flags.pop(p.name) for p in SELECTION_FLAGS},
            )
            comparing = CompareOptions(
                pool=flags.pop("pool"),
                targets=floats(flags.pop("targets"), "--targets"),
                economics=EconomicsOptions(
                    preset=flags.pop("preset"),
                    usd_per_gpu_hour=flags.pop("usd_per_gpu_hour"),
                    kw_per_gpu=flags.pop("kw_per_gpu"),
                ),
            )
            return func(selection=selection, comparing=comparing, **flags)

        command.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params}
        return command  # type: ignore[return-value]

    return decorate
