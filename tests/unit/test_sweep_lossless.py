"""The lossless check: request i of spec-on against request i of spec-off (same prompt)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.schema import RequestRecord
from specscope.sweep.lossless import Divergence, comparable_outputs, compare_outputs
from specscope.workload.prompt import ChatMessage


class CharTokenizer:
    """One token per character: the token count of a prefix is its length."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        assert not add_special, "the common prefix is counted without BOS"
        return [ord(c) for c in text]

    def detokenize(self, ids: Sequence[int]) -> str:
        return "".join(chr(i) for i in ids)

    def count_chat(self, messages: Sequence[ChatMessage]) -> int:
        return sum(len(m.content) for m in messages)


class WordTokenizer(CharTokenizer):
    """One token per whitespace-separated word."""

    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        return [len(w) for w in text.split()]


class BrokenTokenizer(CharTokenizer):
    def tokenize(self, text: str, *, add_special: bool) -> list[int]:
        raise RuntimeError("server went away")


def test_identical_outputs() -> None:
    check = compare_outputs(["a b", "c d"], ["a b", "c d"], CharTokenizer())
    assert (check.compared, check.identical, check.divergences) == (2, 2, [])
    assert check.identical_share == 1.0


@pytest.mark.parametrize(
    ("ref", "out", "first_char", "chars_tokens", "word_tokens"),
    [
        # "hello " is shared; "w" vs "t" differ at offset 6 → 6 characters, 1 word before
        ("hello world", "hello there", 6, 6, 1),
        # the spec side stopped early: the common prefix is all of "abc" → offset 3
        ("abcdef", "abc", 3, 3, 1),
        ("abc", "abcdef", 3, 3, 1),
        # different from the first character
        ("x", "y", 0, 0, 0),
        # "one two three" vs "one two thrice": offset 11 ("e" vs "i"), words "one two thr" = 3
        ("one two three", "one two thrice", 11, 11, 3),
    ],
)
def test_first_divergence(
    ref: str, out: str, first_char: int, chars_tokens: int, word_tokens: int
) -> None:
    check = compare_outputs([ref], [out], CharTokenizer())
    assert check.compared == 1
    assert check.identical == 0
    assert check.divergences == [
        Divergence(request=0, first_char=first_char, first_token=chars_tokens)
    ]
    by_word = compare_outputs([ref], [out], WordTokenizer())
    assert by_word.divergences[0].first_token == word_tokens


def test_share_and_request_indices_of_a_mixed_batch() -> None:
    ref = ["same", "abcd", None, "zzz", "last"]
    out = ["same", "abXd", "anything", None, "last"]
    check = compare_outputs(ref, out, CharTokenizer())
    # request 2 and 3 lack one side: not compared; 0 and 4 identical; 1 differs at offset 2
    assert check.compared == 3
    assert check.identical == 2
    assert check.identical_share == pytest.approx(2 / 3)
    assert check.divergences == [Divergence(request=1, first_char=2, first_token=2)]


def test_nothing_comparable_gives_share_zero_not_a_crash() -> None:
    check = compare_outputs([None, "a"], ["b", None], None)
    assert (check.compared, check.identical, check.identical_share) == (0, 0, 0.0)


@pytest.mark.parametrize("tokenizer", [None, BrokenTokenizer()])
def test_no_token_count_without_a_working_tokenizer(tokenizer: CharTokenizer | None) -> None:
    check = compare_outputs(["abc"], ["abd"], tokenizer)
    assert check.divergences == [Divergence(request=0, first_char=2, first_token=None)]


def test_lists_of_different_length_compare_the_common_requests() -> None:
    check = compare_outputs(["a", "b", "c"], ["a", "x"], None)
    assert (check.compared, check.identical) == (2, 1)


def _record(
    index: int, text: str | None, *, error: str | None = None, warmup: bool = False
) -> RequestRecord:
    return RequestRecord(index=index, send_s=0.0, output_text=text, error=error, warmup=warmup)


def test_comparable_outputs_drops_failed_and_warmup_requests() -> None:
    records = [
        _record(0, "warm", warmup=True),
        _record(2, "two"),
        _record(0, "zero"),
        _record(1, "frag", error="timeout after 1 s"),  # a fragment, not an output
    ]
    assert comparable_outputs(records) == ["zero", None, "two"]
    assert comparable_outputs([_record(0, "w", warmup=True)]) == []


def test_a_failed_spec_request_is_not_counted_as_a_divergence() -> None:
    off = comparable_outputs([_record(0, "the full answer"), _record(1, "second")])
    on = comparable_outputs(
        [_record(0, "the full", error="timeout after 1 s"), _record(1, "second")]
    )
    check = compare_outputs(off, on, CharTokenizer())
    assert (check.compared, check.identical, check.divergences) == (1, 1, [])


@given(st.lists(st.text(max_size=20), max_size=6), st.lists(st.text(max_size=20), max_size=6))
def test_invariants(ref: list[str], out: list[str]) -> None:
    check = compare_outputs(list(ref), list(out), CharTokenizer())
    assert check.compared == min(len(ref), len(out))
    assert check.identical + len(check.divergences) == check.compared
    for d in check.divergences:
        a, b = ref[d.request], out[d.request]
        assert a[: d.first_char] == b[: d.first_char]
        assert d.first_char == min(len(a), len(b)) or a[d.first_char] != b[d.first_char]
        assert d.first_token == d.first_char
