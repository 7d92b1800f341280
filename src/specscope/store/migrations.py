"""The store's schema: its migration steps, oldest first, and the version check that runs them.

A file's schema version is the number of steps applied (table ``schema_version``). Steps run in
order, each in its own transaction; a file written by a newer specscope is refused rather than
misread. Steps are frozen once released: change the schema by appending a step (a field added to
:class:`~specscope.schema.Point` needs one that adds its column; :mod:`specscope.store.codec`
does the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import duckdb

from specscope.errors import UserError
from specscope.store.codec import utc_now

Migration = str | Callable[[duckdb.DuckDBPyConnection], None]
"""One schema step: SQL text (may hold several statements) or a function given the connection."""

_V1_SQL = """
CREATE TABLE points (
    point_id VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    "repeat" INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    hardware VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    "precision" VARCHAR NOT NULL,
    engine VARCHAR NOT NULL,
    spec_method VARCHAR NOT NULL,
    draft_depth INTEGER,
    spec_config VARCHAR NOT NULL,
    disaggregated BOOLEAN NOT NULL,
    n_gpus INTEGER NOT NULL,
    n_decode_gpus INTEGER,
    tp INTEGER,
    pp INTEGER,
    ep INTEGER,
    dp_attention BOOLEAN,
    isl INTEGER NOT NULL,
    osl INTEGER NOT NULL,
    concurrency INTEGER,
    request_rate DOUBLE,
    workload VARCHAR NOT NULL,
    throughput_per_gpu DOUBLE NOT NULL,
    output_throughput_per_gpu DOUBLE,
    input_throughput_per_gpu DOUBLE,
    interactivity DOUBLE NOT NULL,
    ttft_mean_s DOUBLE, ttft_median_s DOUBLE, ttft_p90_s DOUBLE, ttft_p99_s DOUBLE,
    tpot_mean_s DOUBLE, tpot_median_s DOUBLE, tpot_p90_s DOUBLE, tpot_p99_s DOUBLE,
    itl_mean_s DOUBLE, itl_median_s DOUBLE, itl_p90_s DOUBLE, itl_p99_s DOUBLE,
    e2el_mean_s DOUBLE, e2el_median_s DOUBLE, e2el_p90_s DOUBLE, e2el_p99_s DOUBLE,
    measured_concurrency DOUBLE,
    tokens_per_chunk_mean DOUBLE,
    duration_s DOUBLE,
    n_requests INTEGER,
    n_failed INTEGER,
    power_w_per_gpu DOUBLE,
    source VARCHAR NOT NULL,
    source_file VARCHAR,
    "date" VARCHAR,
    engine_version VARCHAR,
    power_source VARCHAR NOT NULL,
    drafts BIGINT,
    draft_tokens BIGINT,
    accepted_tokens BIGINT,
    accepted_per_position INTEGER[],
    reported_acceptance_length DOUBLE,
    acceptance_source VARCHAR,
    acceptance_note VARCHAR,
    extra JSON NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    command VARCHAR NOT NULL,
    engine VARCHAR,
    notes JSON NOT NULL
);
CREATE TABLE requests (
    point_id VARCHAR NOT NULL,
    "index" INTEGER NOT NULL,
    warmup BOOLEAN NOT NULL,
    send_s DOUBLE NOT NULL,
    ttft_s DOUBLE,
    e2el_s DOUBLE,
    end_s DOUBLE,
    chunk_times_s DOUBLE[] NOT NULL,
    chunk_tokens INTEGER[] NOT NULL,
    input_tokens INTEGER,
    requested_output_tokens INTEGER,
    output_tokens INTEGER NOT NULL,
    error VARCHAR,
    draft_tokens INTEGER,
    accepted_tokens INTEGER,
    output_text VARCHAR,
    PRIMARY KEY (point_id, warmup, "index")
);
"""

_V2_SQL = "ALTER TABLE requests ADD COLUMN spec_decoding JSON"
"""Version 2: each response's own spec-decoding fields (``RequestRecord.spec_decoding``: vLLM's
per-request metrics, SGLang's ``meta_info`` counts), kept for their distribution per point."""

MIGRATIONS: list[Migration] = [_V1_SQL, _V2_SQL]
"""Every schema step, oldest first; the schema version is the number of steps applied."""


def stored_version(con: duckdb.DuckDBPyConnection) -> int:
    """The schema version of an open store (0 before its first step)."""
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def checked_version(con: duckdb.DuckDBPyConnection, label: str, known: int, *, create: bool) -> int:
    """The store's schema version, once the file is known to be a specscope store no newer
    than the ``known`` versions (``create``: an empty file gets its version table).
    ``label`` names the store in errors."""
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
    }
    if "schema_version" not in tables:
        if tables or not create:
            found = f"tables {', '.join(sorted(tables))}" if tables else "no tables"
            raise UserError(
                f"{label} is a DuckDB file but not a specscope store "
                f"({found}, no schema_version); pass another --db"
            )
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMP NOT NULL)"
        )
    current = stored_version(con)
    if current > known:
        raise UserError(
            f"store {label} has schema version {current} but this specscope knows "
            f"versions up to {known}; upgrade specscope or pass another --db file"
        )
    return current


def migrate(con: duckdb.DuckDBPyConnection, label: str, steps: Sequence[Migration]) -> None:
    """Apply the ``steps`` the store has not had yet, each in one transaction."""
    current = checked_version(con, label, len(steps), create=True)
    for version in range(current + 1, len(steps) + 1):
        step = steps[version - 1]
        con.begin()
        try:
            if isinstance(step, str):
                con.execute(step)
            else:
                step(con)
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, utc_now()])
            con.commit()
        except BaseException:
            con.rollback()
            raise
