"""Per-request acceptance (vLLM ``metrics.speculative_decoding``, SGLang ``meta_info``), the
TensorRT-LLM coverage check, and the parser that keeps those fields, with worked numbers."""

from __future__ import annotations

import json

import pytest

from specscope.client.protocols import build_body
from specscope.client.stream import StreamParser
from specscope.engines.acceptance import per_position_from_histogram
from specscope.engines.sglang import counts_from_sglang_requests
from specscope.engines.trtllm import trtllm_coverage_note
from specscope.engines.vllm import counts_from_vllm_requests
from specscope.schema import RequestRecord


def _record(index: int, spec: dict[str, object] | None, **kw: object) -> RequestRecord:
    return RequestRecord(index=index, send_s=0.0, spec_decoding=spec, **kw)  # type: ignore[arg-type]


def test_per_position_from_histogram() -> None:
    # steps accepting exactly 0, 1, 2, 3 drafts: 39, 1, 0, 3 (vLLM's doc example) → position 0
    # accepted by 1 + 0 + 3 steps, position 1 by 0 + 3, position 2 by 3
    assert per_position_from_histogram([39, 1, 0, 3]) == [4, 3, 3]
    assert per_position_from_histogram([5]) == []


def test_vllm_per_request_sums() -> None:
    doc = {  # the summary example of vLLM v0.29.0's acceptance_metrics.md
        "mean_acceptance_length": 1.2325581395348837,
        "draft_acceptance_rate": 0.07751937984496124,
        "acceptance_histogram": [39, 1, 0, 3],
        "num_spec_steps": 43,
        "num_accepted_draft_tokens": 10,
        "num_draft_tokens": 129,
        "num_spec_tokens": 3,
    }
    other = {
        "acceptance_histogram": [1, 1, 2, 0],
        "num_spec_steps": 4,
        "num_accepted_draft_tokens": 5,
        "num_draft_tokens": 12,
    }
    key = "metrics.speculative_decoding"
    records = [
        _record(0, {key: doc}),
        _record(1, {key: other}),
        _record(2, None, warmup=True),  # warm-ups are not in the window
    ]
    counts = counts_from_vllm_requests(records)
    assert counts is not None and counts.source == "vllm:per_request"
    # 43 + 4 steps, 10 + 5 accepted, 129 + 12 drafted; histogram [40, 2, 2, 3] → [7, 5, 3]
    assert (counts.drafts, counts.accepted_tokens, counts.draft_tokens) == (47, 15, 141)
    assert counts.accepted_per_position == [7, 5, 3]
    assert counts.acceptance_length == pytest.approx(1 + 15 / 47)
    # one timed request without the field: no partial sum
    assert counts_from_vllm_requests([*records, _record(3, None)]) is None


def test_sglang_per_request_both_namings() -> None:
    new = {
        "spec_verify_ct": 4,
        "spec_num_correct_drafts": 5,
        "spec_num_proposed_drafts": 8,
        "spec_correct_drafts_histogram": [1, 1, 2],
    }
    legacy = {  # v0.5.x names
        "spec_verify_ct": 2,
        "spec_accept_token_num": 3,
        "spec_draft_token_num": 4,
        "spec_accept_histogram": [0, 1, 1],
    }
    none_verified = {"spec_verify_ct": 0}
    records = [_record(i, {"meta_info": f}) for i, f in enumerate([new, legacy, none_verified])]
    counts = counts_from_sglang_requests(records)
    assert counts is not None and counts.source == "sglang:meta_info"
    # 4 + 2 steps, 5 + 3 accepted, 8 + 4 drafted; histogram [1, 2, 3] → positions [5, 3]
    assert (counts.drafts, counts.accepted_tokens, counts.draft_tokens) == (6, 8, 12)
    assert counts.accepted_per_position == [5, 3]
    assert counts.acceptance_length == pytest.approx(1 + 8 / 6)
    assert counts_from_sglang_requests([_record(0, None)]) is None


def test_trtllm_coverage_note() -> None:
    assert trtllm_coverage_note(11, [11, 12, 13]) == ""
    assert trtllm_coverage_note(None, [5, 6, 7]) == ""
    # ids 11..20 expected, 3 of them lost at the start of the window
    note = trtllm_coverage_note(11, [14, 15, 16, 17, 18, 19, 20])
    assert note.startswith("window not fully covered: 3 of 10 iterations missing")


def test_parser_keeps_vllm_and_sglang_spec_fields() -> None:
    vllm = StreamParser("completions")
    vllm.feed_line('data: {"choices": [{"index": 0, "text": "a b", "finish_reason": null}]}', 0.1)
    final = {
        "choices": [],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        "metrics": {"speculative_decoding": {"num_spec_steps": 1}},
    }
    vllm.feed_line("data: " + json.dumps(final), 0.2)
    assert vllm.summary().spec_decoding == {"metrics.speculative_decoding": {"num_spec_steps": 1}}

    sglang = StreamParser("sglang", keep_text=True)
    events = [
        {
            "text": "t0 ",
            "meta_info": {"prompt_tokens": 4, "completion_tokens": 1, "spec_verify_ct": 0},
        },
        {
            "text": "t0 t1 t2 t3 ",
            "meta_info": {
                "prompt_tokens": 4,
                "completion_tokens": 4,
                "finish_reason": {"type": "length", "length": 4},
                "spec_verify_ct": 1,
                "spec_num_correct_drafts": 2,
            },
        },
    ]
    for t, event in enumerate(events):
        sglang.feed_line("data: " + json.dumps(event), 0.1 * (t + 1))
    sglang.feed_line("data: [DONE]", 0.3)
    summary = sglang.summary()
    assert sglang.complete
    assert summary.chunk_tokens == [1, 3] and summary.output_tokens == 4
    assert summary.input_tokens == 4
    assert summary.text == "t0 t1 t2 t3 "
    assert summary.spec_decoding == {
        "meta_info": {"spec_verify_ct": 1, "spec_num_correct_drafts": 2}
    }


def test_sglang_generate_body() -> None:
    body = build_body("sglang", model="m", prompt="hi", max_tokens=8)
    assert body == {
        "text": "hi",
        "sampling_params": {"max_new_tokens": 8, "temperature": 0.0, "ignore_eos": True},
        "stream": True,
    }
    assert "input_ids" in build_body("sglang", model="m", prompt=[1, 2], max_tokens=8)
