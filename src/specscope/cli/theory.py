"""The commands that answer from a model rather than from the store alone: explain (a speedup
through the Leviathan model) and predict (spec vs off from the roofline step model, or its
calibration on measured runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

from specscope.cli.common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    floats,
    ints,
    out,
    print_json,
    user_errors,
)
from specscope.errors import UserError
from specscope.theory.acceptance import AcceptanceKind


@user_errors
def explain_cmd(
    acceptance: Annotated[
        float | None, typer.Option(help="Measured acceptance (see --acceptance-kind).")
    ] = None,
    acceptance_kind: Annotated[
        AcceptanceKind,
        typer.Option(
            help="alpha = Leviathan per-token acceptance a; rate = engine draft acceptance rate r "
            "(accepted/drafted, vLLM and llama.cpp); al = acceptance length (tokens per step, "
            "bonus included). The answers differ from the third digit on."
        ),
    ] = "alpha",
    draft_depth: Annotated[
        int | None, typer.Option("--gamma", help="Draft depth g (speculative tokens per step).")
    ] = None,
    speedup: Annotated[
        float | None,
        typer.Option(help="Measured speedup S = spec decode tok/s / off decode tok/s."),
    ] = None,
    cost_ratio: Annotated[
        float | None,
        typer.Option(
            "--cost-ratio", help="Known cost ratio c (draft pass / verify pass) to predict S."
        ),
    ] = None,
    sweep: Annotated[
        Path | None,
        typer.Option(
            help="CSV of a g-sweep: columns gamma,tok_s (gamma 0 = off) and optional "
            "acceptance,acceptance_kind. Prints speedup and c_eff per g and the best g."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Explain a speedup with the Leviathan model: S = E(a,g) / (1 + g·c).

    From acceptance and g it gives the expected tokens per step E, the break-even cost ratio c*,
    the cost ratio c your measured speedup implies, and the best g under that c.
    """
    from specscope.theory.explain import explain_measurement, explain_sweep

    if sweep is not None:
        result: BaseModel = explain_sweep(sweep)
    else:
        if acceptance is None or draft_depth is None:
            raise UserError(
                "explain needs --acceptance and --gamma (plus --speedup or --cost-ratio), "
                "or --sweep FILE.csv"
            )
        try:
            result = explain_measurement(
                acceptance, acceptance_kind, draft_depth, speedup=speedup, cost_ratio=cost_ratio
            )
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if as_json:
        print_json(result)
        return
    from specscope.console import print_explanation

    print_explanation(out, result)


@user_errors
def predict_cmd(
    hardware: Annotated[
        str | None,
        typer.Option(help="Catalog hardware key (h100, h200, b200, mi300x, rtx3090, cpu...)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Catalog model key (qwen3.5-397b-a17b, llama-3.1-70b...).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight precision: bf16 (default), fp8, fp4, q4_k_m...")
    ] = None,
    spec: Annotated[str, typer.Option("--spec", help="mtp, eagle3, draft_model or ngram.")] = "mtp",
    draft_depths_text: Annotated[
        str, typer.Option("--gamma", help="Draft depths to predict, e.g. 1,2,3.")
    ] = "1,2,3",
    acceptance_length: Annotated[
        str | None, typer.Option(help="AL per g (bonus included), e.g. 1.9,2.7,3.4.")
    ] = None,
    acceptance_alpha: Annotated[
        float | None, typer.Option(help="Or: one i.i.d. per-token acceptance a for every g.")
    ] = None,
    acceptance_rate: Annotated[
        str | None, typer.Option(help="Or: engine draft acceptance rate r per g.")
    ] = None,
    acceptance_per_position: Annotated[
        str | None, typer.Option(help="Or: unconditional acceptance per draft position p1,p2,...")
    ] = None,
    isl: Annotated[int, typer.Option(help="Input tokens.")] = 1024,
    osl: Annotated[int, typer.Option(help="Output tokens.")] = 1024,
    n_gpus: Annotated[int | None, typer.Option(help="GPUs (default: the fewest that fit).")] = None,
    kv_precision: Annotated[str, typer.Option(help="KV cache precision.")] = "bf16",
    draft_model: Annotated[str | None, typer.Option(help="Catalog key of the draft model.")] = None,
    max_concurrency: Annotated[
        int | None, typer.Option(help="Highest concurrency to predict.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Serving engine whose limits cap the curves: vllm, sglang, trtllm, or none "
            "(no engine cap, KV memory only)."
        ),
    ] = "vllm",
    max_running_requests: Annotated[
        int | None,
        typer.Option(help="The engine's running-request cap (default: the engine's own)."),
    ] = None,
    max_batched_tokens: Annotated[
        int | None,
        typer.Option(
            help="The engine's tokens per step cap (default: the engine's own); a verify of g "
            "drafts takes g + 1 tokens per request."
        ),
    ] = None,
    expert_parallel: Annotated[
        bool,
        typer.Option(
            help="MoE experts spread over the GPUs (expert parallelism): each MoE layer pays a "
            "dispatch and a combine all-to-all instead of a tensor-parallel all-reduce."
        ),
    ] = False,
    targets: Annotated[
        str | None, typer.Option(help="Interactivity targets for the matched gain.")
    ] = None,
    preset: Annotated[str, typer.Option(help="Price/power preset.")] = "auto",
    catalog: Annotated[
        list[Path] | None,
        typer.Option(help="Your own catalog TOML (overrides/extends; repeatable)."),
    ] = None,
    hardware_profile: Annotated[
        Path | None, typer.Option(help="A calibrated profile (from --calibrate) to predict with.")
    ] = None,
    calibrate: Annotated[
        list[str] | None,
        typer.Option(help="Fit overhead and efficiencies to these measured run ids (repeatable)."),
    ] = None,
    save_points: Annotated[
        bool, typer.Option("--store", help="Store the predicted curves (series marked predicted).")
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Predict spec vs off on hardware you may not have: a roofline step model under batching.

    Step time = overhead + max(bytes / bandwidth, FLOPs / compute) + communication, with MoE
    expert unions and per-token costs for the g+1-token verify, KV and recurrent-state reads, and
    a draft pass priced as what it is (MTP/EAGLE head, draft model, n-gram host time); acceptance
    enters as AL per g. Curves stop at the engine's limits (running requests, tokens per step,
    KV memory). Gives throughput/GPU vs interactivity for off and each g, where spec stops paying,
    the best g per concurrency and c_eff; a per-step speedup above g + 1 is refused as a bug.
    Calibrate on measured runs first (--calibrate RUN) for numbers you can trust; queries outside
    the checked range of a hardware family warn.
    """
    from specscope.app.predict import (
        AcceptanceInput,
        PredictFiles,
        calibrate_store,
        predict_curves,
    )
    from specscope.console import print_calibration, print_prediction
    from specscope.predict.request import PredictRequest

    if calibrate:
        result = calibrate_store(
            db, calibrate, catalog or [], hardware, model, precision, draft_model
        )
        if as_json:
            print_json(result)
        else:
            print_calibration(out, result)
        return
    if hardware is None or model is None:
        raise UserError("predict needs --hardware and --model (catalog keys), or --calibrate RUN")
    draft_depths = ints(draft_depths_text, "--gamma")
    acceptance = AcceptanceInput(
        length=floats(acceptance_length, "--acceptance-length"),
        alpha=acceptance_alpha,
        rate=floats(acceptance_rate, "--acceptance-rate"),
        per_position=floats(acceptance_per_position, "--acceptance-per-position"),
    )
    target_list = floats(targets, "--targets") or []
    request = PredictRequest(
        hardware=hardware,
        model=model,
        precision=precision or "bf16",
        spec_method=spec,
        gammas=draft_depths,
        acceptance=acceptance.curve(draft_depths),
        isl=isl,
        osl=osl,
        n_gpus=n_gpus,
        kv_precision=kv_precision,
        draft_model=draft_model,
        max_concurrency=max_concurrency,
        targets=target_list,
        economics_preset=preset,
        engine=engine,
        max_running_requests=max_running_requests,
        max_batched_tokens=max_batched_tokens,
        expert_parallel=expert_parallel,
    )
    files = PredictFiles(
        catalog=catalog or [], hardware_profile=hardware_profile, store=db if save_points else None
    )
    prediction = predict_curves(request, files)
    if as_json:
        print_json(prediction)
        return
    print_prediction(out, prediction)
