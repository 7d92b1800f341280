"""Recipe validation: a typo or a bad value is one line naming the key; the documented example
parses; endpoint mode measures exactly one server config."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from specscope.errors import UserError
from specscope.sweep import recipe as recipe_module
from specscope.sweep.recipe import Recipe, load_recipe, parse_recipe

BASE = """
name = "t"
[engine]
kind = "llamacpp"
[[workload]]
name = "chat"
source = "builtin:chat"
[[spec]]
name = "off"
"""


def _docstring_example() -> str:
    """The TOML example at the top of specscope.sweep.recipe, dedented."""
    doc = recipe_module.__doc__ or ""
    body = doc.split("Example::", 1)[1]
    lines = [line[4:] if line.startswith("    ") else line for line in body.splitlines()]
    return "\n".join(lines)


def _error(text: str) -> str:
    with pytest.raises(UserError) as info:
        parse_recipe(tomllib.loads(text), "r.toml")
    message = str(info.value)
    assert "\n" not in message, "a user error is one line"
    return message


def test_the_documented_example_is_a_valid_recipe() -> None:
    recipe = parse_recipe(tomllib.loads(_docstring_example()), "docstring")
    assert recipe.name == "gemma-ngram"
    assert recipe.load.concurrency == [1, 2, 4]
    assert [s.name for s in recipe.spec] == ["off", "ngram"]
    assert recipe.spec[1].gamma == [4, 8]
    assert recipe.spec[1].params == {"ngram-mod-n-match": 8, "ngram-mod-n-min": 2}


def test_defaults_fill_what_the_recipe_leaves_out() -> None:
    recipe = parse_recipe(tomllib.loads(BASE))
    assert recipe.repeats == 1
    assert recipe.load.concurrency == [1]
    assert recipe.load.max_failed_fraction == 0.05
    assert recipe.load.temperature == 0.0
    assert recipe.spec[0].method == "none"
    assert recipe.engine.launches


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ("[load]\nconcurency = [1, 2]\n", "load.concurency"),
        ("repeat = 2\n", "repeat"),
        ('[identity]\nhardwre = "cpu"\n', "identity.hardwre"),
    ],
)
def test_an_unknown_key_is_one_line_naming_it(extra: str, key: str) -> None:
    # a top-level key must come before the first table, a table after the base recipe
    message = _error(BASE + extra if extra.startswith("[") else extra + BASE)
    assert f"unknown key '{key}'" in message
    assert message.startswith("r.toml: ")


def test_a_typo_inside_an_array_of_tables_names_the_entry() -> None:
    message = _error(BASE + '[[spec]]\nname = "ngram"\nmethod = "ngram-mod"\ngama = [4]\n')
    # the second [[spec]] entry (index 1) has the typo
    assert "unknown key 'spec.1.gama'" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BASE.replace('kind = "llamacpp"', 'kind = "llama"'), "key 'engine.kind'"),
        (BASE + "[load]\nconcurrency = [0, 2]\n", "concurrency values must be ≥ 1"),
        (BASE + "[load]\nconcurrency = 4\n", "key 'load.concurrency'"),
        (BASE + "[load]\nmax_failed_fraction = 1.5\n", "key 'load.max_failed_fraction'"),
        ("repeats = 0\n" + BASE, "key 'repeats'"),
        ('[engine]\nkind = "llamacpp"\n[[spec]]\nname = "off"\n', "missing key 'workload'"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_key(text: str, expected: str) -> None:
    assert expected in _error(text)


def test_no_pydantic_boilerplate_in_messages() -> None:
    message = _error(BASE + '[[spec]]\nname = "off"\n')
    assert "Value error" not in message
    assert "(top level)" not in message


@pytest.mark.parametrize("table", ["spec", "workload"])
def test_names_must_be_unique(table: str) -> None:
    text = BASE + (
        '[[spec]]\nname = "off"\nmethod = "none"\n'
        if table == "spec"
        else '[[workload]]\nname = "chat"\nsource = "builtin:code"\n'
    )
    message = _error(text)
    assert f"[[{table}]] names must be unique" in message
    assert "repeated: " + ("off" if table == "spec" else "chat") in message


ENDPOINT = """
[engine]
kind = "endpoint"
url = "http://127.0.0.1:9"
[[workload]]
name = "chat"
source = "builtin:chat"
"""


@pytest.mark.parametrize(
    "specs",
    [
        '[[spec]]\nname = "off"\n[[spec]]\nname = "ngram"\nmethod = "ngram-mod"\ngamma = [4]\n',
        '[[spec]]\nname = "ngram"\nmethod = "ngram-mod"\ngamma = [4, 8]\n',
        '[[spec]]\nname = "s"\nmethod = "ngram-mod"\ngamma = [4]\n'
        "synthetic_acceptance_length = [2.0, 3.0]\n",
    ],
    ids=["two-specs", "two-gammas", "two-synthetic-lengths"],
)
def test_endpoint_mode_refuses_more_than_one_server_config(specs: str) -> None:
    message = _error(ENDPOINT + specs)
    assert "endpoint mode measures the one server you run" in message


def test_endpoint_mode_with_one_config_is_accepted() -> None:
    text = ENDPOINT + '[[spec]]\nname = "mtp"\nmethod = "mtp"\ngamma = [3]\n'
    recipe = parse_recipe(tomllib.loads(text))
    assert not recipe.engine.launches


def test_endpoint_mode_needs_a_url() -> None:
    text = ENDPOINT.replace('url = "http://127.0.0.1:9"\n', "") + '[[spec]]\nname = "off"\n'
    message = _error(text)
    assert "needs engine.url" in message
    assert "key 'engine'" in message


def test_load_recipe_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(BASE)
    recipe = load_recipe(path)
    assert isinstance(recipe, Recipe)
    assert recipe.workload[0].source == "builtin:chat"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read recipe"),
        ("name = \n", "not valid TOML"),
        (BASE + "[load]\nconcurency = [1]\n", "unknown key 'load.concurency'"),
    ],
)
def test_load_recipe_errors_name_the_file(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "recipe.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError) as info:
        load_recipe(path)
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_parse_recipe_accepts_a_plain_mapping() -> None:
    data: dict[str, Any] = {
        "engine": {"kind": "vllm", "model": "org/model"},
        "workload": [{"name": "s", "source": "synthetic", "isl": 128, "osl": 64}],
        "spec": [{"name": "off"}, {"name": "mtp", "method": "mtp", "gamma": [1, 2, 3]}],
    }
    recipe = parse_recipe(data)
    assert recipe.workload[0].isl == 128
    assert recipe.spec[1].gamma == [1, 2, 3]


def test_bench_is_a_one_config_endpoint_recipe() -> None:
    from specscope.app.bench import BENCH_HEALTH_TIMEOUT_S, BenchArgs, bench_recipe_data
    from specscope.sweep.plan import make_plan

    args = BenchArgs(
        url="http://127.0.0.1:8000",
        engine="vllm",
        spec="mtp",
        draft_depth=3,
        concurrency=[1, 4],
        workload="file:/data/my-prompts.jsonl",
        osl=64,
    )
    recipe = parse_recipe(bench_recipe_data(args), "bench options")
    assert not recipe.engine.launches
    assert recipe.engine.endpoint_engine == "vllm"
    assert recipe.engine.health_timeout_s == BENCH_HEALTH_TIMEOUT_S == 60.0
    assert recipe.workload[0].name == "my-prompts.jsonl"
    keys = [p.key for p in make_plan(recipe).points]
    assert keys == [
        "mtp:mtp-g3|my-prompts.jsonl|c1|r0",
        "mtp:mtp-g3|my-prompts.jsonl|c4|r0",
    ]


EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "recipes").glob("*.toml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_recipe_is_valid_and_plans(path: Path) -> None:
    from specscope.sweep.plan import make_plan

    plan = make_plan(load_recipe(path))
    assert plan.points
    assert plan.launches() >= 1
    assert plan.estimate_s() > 0
    if not plan.recipe.engine.launches:
        assert plan.launches() == 1


def test_the_example_recipes_are_found() -> None:
    assert EXAMPLES, "examples/recipes/*.toml moved? point EXAMPLES at them"
