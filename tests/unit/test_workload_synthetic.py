"""Synthetic prompts at exact token lengths, and Workload.build for every source."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specscope.errors import UserError
from specscope.workload import ChatMessage, Workload, build
from specscope.workload.synthetic import (
    WORDS,
    exact_length_body,
    synthetic_prompt,
    text_with_token_count,
)
from specscope.workload.tokenizer import Tokenizer

BOS = 1


class WhitespaceTokenizer:
    """One token per whitespace-separated word; BOS added on request.

    Chat template: ``<user> CONTENT <end> <assistant>`` per message, i.e. 3 tokens of template
    per user message plus BOS.
    """

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.calls = 0

    def _id(self, word: str) -> int:
        return self.vocab.setdefault(word, len(self.vocab) + 10)

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        self.calls += 1
        ids = [self._id(w) for w in text.split()]
        return [BOS, *ids] if add_special else ids

    def detokenize(self, ids: Sequence[int]) -> str:
        words = {v: k for k, v in self.vocab.items()}
        return " ".join(words[i] for i in ids if i != BOS)

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        rendered = " ".join(f"<{m.role}> {m.content} <end>" for m in messages) + " <assistant>"
        return len(self.tokenize(rendered, add_special=True))


class SpaceTokenizer(WhitespaceTokenizer):
    """Awkward on purpose: spaces and punctuation are tokens of their own, and detokenising
    drops trailing whitespace, so a cut after a space token comes back one token short and
    plain words alone only ever give odd counts (w words → 2w − 1 tokens)."""

    def _pieces(self, text: str) -> list[str]:
        pieces: list[str] = []
        word = ""
        for ch in text:
            if ch.isalnum():
                word += ch
                continue
            if word:
                pieces.append(word)
                word = ""
            pieces.append(ch)
        if word:
            pieces.append(word)
        return pieces

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        self.calls += 1
        ids = [self._id(p) for p in self._pieces(text)]
        return [BOS, *ids] if add_special else ids

    def detokenize(self, ids: Sequence[int]) -> str:
        pieces = {v: k for k, v in self.vocab.items()}
        return "".join(pieces[i] for i in ids if i != BOS).rstrip()


def test_fakes_satisfy_the_protocol() -> None:
    assert isinstance(WhitespaceTokenizer(), Tokenizer)
    assert isinstance(SpaceTokenizer(), Tokenizer)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 500])
@pytest.mark.parametrize("tokenizer_cls", [WhitespaceTokenizer, SpaceTokenizer])
def test_text_has_exactly_n_tokens(n: int, tokenizer_cls: type[WhitespaceTokenizer]) -> None:
    tok = tokenizer_cls()
    text = text_with_token_count(tok, n, random.Random(3))
    assert len(tok.tokenize(text, add_special=False)) == n


def test_space_tokenizer_needs_punctuation_for_even_lengths() -> None:
    # 4 tokens cannot be "w1 w2" (3) or "w1 w2 w3" (5); the builder must use a separator
    # token: "w1 w2, w3"... cut to 4 pieces = "w1", " ", "w2", ",".
    tok = SpaceTokenizer()
    text = text_with_token_count(tok, 4, random.Random(0))
    assert len(tok.tokenize(text, add_special=False)) == 4
    assert any(p in text for p in ",.;")


@given(n=st.integers(min_value=2, max_value=300), seed=st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_exact_length_holds_for_any_length_and_seed(n: int, seed: int) -> None:
    tok = SpaceTokenizer()
    body = exact_length_body(tok, n, random.Random(seed), chat=False)
    assert len(tok.tokenize(body, add_special=True)) == n


@pytest.mark.parametrize(
    ("n", "body_words"),
    [
        # plain: BOS + words → body is n − 1 words
        (10, 9),
        (2, 1),
    ],
)
def test_plain_length_counts_the_bos(n: int, body_words: int) -> None:
    tok = WhitespaceTokenizer()
    body = exact_length_body(tok, n, random.Random(1), chat=False)
    assert len(body.split()) == body_words


def test_chat_length_counts_the_template() -> None:
    # BOS + "<user>" + body + "<end>" + "<assistant>" = body + 4 tokens; 20 → 16 body words.
    tok = WhitespaceTokenizer()
    body = exact_length_body(tok, 20, random.Random(1), chat=True)
    assert len(body.split()) == 16
    assert tok.count_chat([ChatMessage(role="user", content=body)]) == 20


@pytest.mark.parametrize(("n", "chat", "overhead"), [(1, False, 1), (4, True, 4)])
def test_too_short_for_the_overhead_is_a_user_error(n: int, chat: bool, overhead: int) -> None:
    with pytest.raises(UserError, match=f"alone take {overhead} tokens; ask for at least"):
        exact_length_body(WhitespaceTokenizer(), n, random.Random(0), chat=chat)


def test_synthetic_prompt_is_keyed_by_seed_role_and_index() -> None:
    tok = WhitespaceTokenizer()

    def make(seed: int, role: str, index: int) -> str:
        p = synthetic_prompt(
            tok, input_tokens=32, output_tokens=8, seed=seed, role=role, index=index
        )
        return p.text or ""

    assert make(0, "timed", 3) == make(0, "timed", 3)
    assert make(0, "timed", 3) != make(0, "timed", 4)
    assert make(0, "timed", 3) != make(1, "timed", 3)
    assert make(0, "timed", 3) != make(0, "warmup", 3)


def test_synthetic_prompt_token_ids_match_text_with_specials() -> None:
    tok = WhitespaceTokenizer()
    p = synthetic_prompt(tok, input_tokens=12, output_tokens=5, seed=0, role="timed", index=0)
    assert p.token_ids == tok.tokenize(p.text or "", add_special=True)
    assert p.token_ids is not None and len(p.token_ids) == 12
    assert p.token_ids[0] == BOS
    assert (p.input_tokens, p.output_tokens, p.category, p.kind) == (12, 5, "synthetic", "text")


def test_words_are_plain_lowercase_and_distinct() -> None:
    assert len(WORDS) == len(set(WORDS)) > 300
    assert all(w.isalpha() and w.islower() for w in WORDS)


# -- Workload.build -------------------------------------------------------------------------


def test_build_synthetic_is_deterministic_and_warmups_are_distinct() -> None:
    w = Workload(source="synthetic", isl=40, osl=16, seed=7)
    timed_a, warm_a = build(w, WhitespaceTokenizer(), n_timed=5, n_warmup=2)
    timed_b, warm_b = build(w, WhitespaceTokenizer(), n_timed=5, n_warmup=2)
    assert [p.text for p in timed_a] == [p.text for p in timed_b]
    assert [p.text for p in warm_a] == [p.text for p in warm_b]
    assert len({p.text for p in timed_a}) == 5
    assert not {p.text for p in warm_a} & {p.text for p in timed_a}
    assert all(p.input_tokens == 40 and p.output_tokens == 16 for p in [*timed_a, *warm_a])


def test_build_synthetic_prefix_is_stable_when_more_prompts_are_asked() -> None:
    w = Workload(source="synthetic", isl=16, osl=4)
    five, _ = build(w, WhitespaceTokenizer(), n_timed=5)
    three, _ = build(w, WhitespaceTokenizer(), n_timed=3)
    assert [p.text for p in three] == [p.text for p in five[:3]]


def test_build_synthetic_cycles_over_num_prompts() -> None:
    # 2 distinct prompts, 5 requests → a b a b a
    w = Workload(source="synthetic", isl=16, osl=4, num_prompts=2)
    timed, _ = build(w, WhitespaceTokenizer(), n_timed=5)
    ids = [p.id for p in timed]
    assert ids == [ids[0], ids[1], ids[0], ids[1], ids[0]] and ids[0] != ids[1]


def test_build_synthetic_chat_sends_messages_at_exact_templated_length() -> None:
    tok = WhitespaceTokenizer()
    w = Workload(source="synthetic", isl=30, osl=4, chat_template=True)
    timed, _ = build(w, tok, n_timed=2)
    for p in timed:
        assert p.kind == "messages" and p.messages is not None
        assert tok.count_chat(p.messages) == 30


def test_build_synthetic_without_tokenizer_is_a_user_error() -> None:
    w = Workload(source="synthetic", isl=16, osl=4)
    with pytest.raises(UserError, match="need the model's tokenizer"):
        build(w, None, n_timed=1)


def test_build_synthetic_needs_a_count() -> None:
    with pytest.raises(UserError, match="how many"):
        build(Workload(source="synthetic", isl=8, osl=4), WhitespaceTokenizer())


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_build_file_partitions_warmup_and_fills_defaults(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"prompt": f"prompt number {i}", "id": f"p{i}"} for i in range(6)
    ]
    rows[0]["output_tokens"] = 99
    path = _write_jsonl(tmp_path / "mine.jsonl", rows)
    w = Workload(source="file", path=str(path), osl=32, seed=3)
    timed, warm = build(w, WhitespaceTokenizer(), n_timed=8, n_warmup=2)
    # 6 prompts, 2 kept back for warm-up → 4 distinct timed prompts cycled over 8 requests
    assert len(warm) == 2 and len(timed) == 8
    assert len({p.id for p in timed}) == 4
    assert not {p.id for p in warm} & {p.id for p in timed}
    assert [p.id for p in timed[:4]] == [p.id for p in timed[4:]]
    by_id = {p.id: p for p in [*timed, *warm]}
    assert by_id["p0"].output_tokens == 99
    assert all(p.output_tokens == 32 for k, p in by_id.items() if k != "p0")
    # "prompt number i" = 3 words + BOS = 4 tokens
    assert all(p.input_tokens == 4 for p in by_id.values())
    again, _ = build(w, WhitespaceTokenizer(), n_timed=8, n_warmup=2)
    assert [p.id for p in again] == [p.id for p in timed]
    other_seed, _ = build(w.model_copy(update={"seed": 4}), None, n_timed=8, n_warmup=2)
    assert [p.id for p in other_seed] != [p.id for p in timed]


def test_build_small_pool_gets_made_up_warmups(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "two.jsonl", [{"prompt": "alpha beta"}, {"prompt": "gamma"}])
    w = Workload(source="file", path=str(path), osl=8)
    timed, warm = build(w, None, n_timed=2, n_warmup=2)
    assert {p.text for p in timed} == {"alpha beta", "gamma"}
    assert [p.category for p in warm] == ["warmup", "warmup"]
    assert all(p.text and p.text not in {"alpha beta", "gamma"} for p in warm)
    assert all(p.input_tokens is None for p in timed)  # no tokenizer, no count


def test_build_chat_template_wraps_text_prompts(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "c.jsonl", [{"prompt": "hello there"}])
    w = Workload(source="file", path=str(path), osl=8, chat_template=True)
    (p,), _ = build(w, WhitespaceTokenizer(), n_timed=1)
    assert p.text is None and p.messages == [ChatMessage(role="user", content="hello there")]
    # BOS <user> hello there <end> <assistant> = 6
    assert p.input_tokens == 6


def test_build_builtin_uses_the_category_and_all_prompts_by_default() -> None:
    w = Workload(source="builtin:repetitive", osl=64)
    timed, warm = build(w, None)
    assert warm == []
    assert len(timed) >= 12 and {p.category for p in timed} == {"repetitive"}
    assert len({p.id for p in timed}) == len(timed)


def test_build_num_prompts_limits_the_distinct_pool() -> None:
    w = Workload(source="builtin:chat", osl=64, num_prompts=3)
    timed, _ = build(w, None, n_timed=9, n_warmup=1)
    assert len({p.id for p in timed}) == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source": "synthetic", "osl": 4}, "needs isl"),
        ({"source": "file", "osl": 4}, "needs path"),
        ({"source": "dataset", "osl": 4}, "unknown workload source"),
        ({"source": "builtin:", "osl": 4}, "unknown workload source"),
    ],
)
def test_workload_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Workload.model_validate(kwargs)


@pytest.mark.parametrize(
    ("kwargs", "label"),
    [
        ({"source": "synthetic", "isl": 1024, "osl": 256}, "synthetic-1024x256"),
        ({"source": "file", "path": "/x/mine.jsonl", "osl": 4}, "file:mine"),
        ({"source": "builtin:code", "osl": 4}, "builtin:code"),
        ({"source": "builtin:code", "osl": 4, "name": "edits"}, "edits"),
    ],
)
def test_workload_label(kwargs: dict[str, object], label: str) -> None:
    assert Workload.model_validate(kwargs).label == label
