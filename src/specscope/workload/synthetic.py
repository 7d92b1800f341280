"""Synthetic prompts of random words at EXACT input token lengths for the served model.

The length is the one the server counts (BOS and chat-template tokens included), never a draw
from 0.8–1.0× of the requested length. Text is built from seeded random words, then trimmed or
extended token by token through the model's own tokenizer until the count is exact.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from specscope.errors import UserError
from specscope.workload.prompt import ChatMessage, Prompt
from specscope.workload.tokenizer import Tokenizer

# Plain, common English words (a vocabulary, not a text): most are one or two tokens in any
# modern tokenizer, which keeps the trim/extend loop short.
_WORD_TEXT = """
    able about above across act add after again against age ago air all almost alone along
    already also always among amount animal answer any appear apple area arm around art ask
    away baby back bad bag ball bank base basket bear beat bed before begin behind bell best
    better between big bird black blue boat body bone book both bottom box boy branch bread
    break bright bring brother brown build burn busy buy call calm camp can car card care carry
    case cat catch cause cell center chair chance change check child choose circle city class
    clean clear climb clock close cloud coat cold color come common cook cool copy corn corner
    count country course cover cow cross crowd cry cup cut dance dark day deal deep desk
    dinner direct dog door double down draw dream dress drink drive drop dry during each early
    earth east easy eat edge egg eight end enough even evening every example eye face fact fall
    family far farm fast father field fight figure fill final find fine finger fire first fish
    five flat floor flower fly follow food foot forest form forward four free fresh friend front
    fruit full game garden gate gather gentle gift girl give glad glass gold good grass great
    green ground group grow guess hair half hall hand happy hard hat head hear heart heavy help
    high hill hold hole home hope horse hot hour house human hundred idea inch iron island join
    jump keep key kind king kitchen knee know lake land large last late laugh lead leaf learn
    leave left leg letter level light line lion list listen little live long look lost loud low
    machine main make man many map mark market matter meal measure meet metal middle milk mind
    minute moment money month moon morning mother mountain mouth move music name near neck need
    never new next night noise north note number ocean office often oil old open order other
    paper park part party pass past path pay pencil people pick picture piece place plain plan
    plant play point pool poor port post pull push quick quiet rain reach read ready real red
    rest rich ride right ring river road rock roll roof room root rope round row rule run safe
    sail salt same sand save say school sea season seat second see seed send sense serve shape
    share sharp sheep shell ship shoe shop short show side sign silver simple sing sister sit
    size skin sky sleep slow small smile snow soft soil song sound south space speak speed
    spring square stand star start station stay step stick still stone stop store story street
    strong study sugar summer sun table tail talk tall teach team tell ten test thank thick thin
    thing think three tie time tiny today together tomorrow tool top touch town track trade
    train tree trip true try turn twelve two under until up use valley very visit voice wait
    walk wall warm wash watch water wave way wear weather week west wheel white whole wide wild
    win wind window winter wise wood word work world write year yellow young
"""
WORDS: tuple[str, ...] = tuple(_WORD_TEXT.split())

_SEPARATORS = (" ", ", ", ". ", "; ")
_MAX_TRIM_ROUNDS = 64
_MAX_LENGTH_ROUNDS = 8


def text_with_token_count(tokenizer: Tokenizer, n_tokens: int, rng: random.Random) -> str:
    """Random-word text that tokenises (without special tokens) to exactly ``n_tokens`` ids.

    Grows the text word by word past the target, cuts the ids to ``n_tokens``, detokenises and
    re-checks (a cut can merge or split at the boundary, and detokenising may drop trailing
    space), adding a word whenever it falls short. The separator before an added word cycles
    through space, comma, full stop and semicolon, so a tokenizer whose counts move in steps of
    two (a word plus a space token) can still land on every length.
    """
    if n_tokens < 1:
        raise ValueError(f"n_tokens must be >= 1, got {n_tokens}")
    words: list[str] = []
    ids: list[int] = []
    text = ""
    while len(ids) < n_tokens:
        words.extend(rng.choice(WORDS) for _ in range(n_tokens - len(ids)))
        text = " ".join(words)
        ids = tokenizer.tokenize(text, add_special=False)
    for round_ in range(_MAX_TRIM_ROUNDS):
        if len(ids) == n_tokens:
            return text
        if len(ids) > n_tokens:
            text = tokenizer.detokenize(ids[:n_tokens])
        else:
            separator = _SEPARATORS[round_ % len(_SEPARATORS)]
            text = f"{text}{separator}{rng.choice(WORDS)}"
        ids = tokenizer.tokenize(text, add_special=False)
    raise UserError(
        f"could not build text of exactly {n_tokens} tokens with this tokenizer after "
        f"{_MAX_TRIM_ROUNDS} tries; try another seed or a prompt file"
    )


def _user(text: str) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=text)]


def exact_length_body(
    tokenizer: Tokenizer, n_tokens: int, rng: random.Random, *, chat: bool
) -> str:
    """A random-word body whose full prompt is exactly ``n_tokens`` tokens as the server counts.

    Plain prompts count the special tokens the server adds (BOS); chat prompts count the whole
    chat template around one user message. The body length is corrected until the total is exact.
    """
    measure: Callable[[str], int]
    if chat:

        def measure(body: str) -> int:
            return tokenizer.count_chat(_user(body))

    else:

        def measure(body: str) -> int:
            return len(tokenizer.tokenize(body, add_special=True))

    probe = "hello"
    overhead = measure(probe) - len(tokenizer.tokenize(probe, add_special=False))
    target_body = n_tokens - overhead
    for _ in range(_MAX_LENGTH_ROUNDS):
        if target_body < 1:
            what = "chat template" if chat else "special tokens"
            raise UserError(
                f"input length {n_tokens} is too short: the {what} alone take {overhead} tokens; "
                f"ask for at least {overhead + 1}"
            )
        body = text_with_token_count(tokenizer, target_body, rng)
        total = measure(body)
        if total == n_tokens:
            return body
        target_body += n_tokens - total
    raise UserError(
        f"could not reach exactly {n_tokens} input tokens after {_MAX_LENGTH_ROUNDS} tries; "
        "try another seed"
    )


def synthetic_prompt(
    tokenizer: Tokenizer,
    *,
    input_tokens: int,
    output_tokens: int,
    seed: int,
    role: str,
    index: int,
    chat: bool = False,
) -> Prompt:
    """Prompt number ``index`` of stream ``role`` (``timed`` or ``warmup``) for ``seed``.

    Each prompt has its own random stream keyed by (seed, role, index), so prompt 3 is the same
    whether 5 or 500 are built, and warm-up prompts never repeat timed ones.
    """
    if input_tokens < 1:
        raise UserError(f"synthetic input length must be >= 1 token, got {input_tokens}")
    rng = random.Random(f"specscope-synthetic/{seed}/{role}/{index}")
    body = exact_length_body(tokenizer, input_tokens, rng, chat=chat)
    prompt_id = f"synthetic-{role}-{seed}-{index}"
    if chat:
        return Prompt(
            id=prompt_id,
            messages=_user(body),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            category="synthetic",
        )
    return Prompt(
        id=prompt_id,
        text=body,
        token_ids=tokenizer.tokenize(body, add_special=True),
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        category="synthetic",
    )


def random_word_text(n_words: int, rng: random.Random) -> str:
    """Random words without any tokenizer (warm-up filler when exact length does not matter)."""
    return " ".join(rng.choice(WORDS) for _ in range(max(1, n_words)))
