"""compare, report and export read the store without writing to it (issue 12 item 8): on
read-only media, on an immutable file, through a migrated copy of an older store, and with one
clear line while another process (a sweep) holds it for writing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from specscope.app.compare import compare_store
from specscope.errors import UserError
from specscope.report.sample import sample_points
from specscope.store import migrations
from specscope.store.db import PointFilter, Store

ROOT = Path(__file__).resolve().parents[2]


def _store(path: Path) -> int:
    points = sample_points()
    with Store.open(path) as store:
        store.add_points(points)
    return len(points)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _compare_reads(path: Path, n: int) -> None:
    with Store.open(path, read_only=True) as store:
        assert store.count(PointFilter(status=None)) == n
    (comparison,) = compare_store(path)
    assert comparison.targets


def _mount_tmpfs(where: Path) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def read_only_media(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    mount = tmp_path / "ro"
    mount.mkdir()
    _mount_tmpfs(mount)
    try:
        n = _store(mount / "s.duckdb")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "s.duckdb", n
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_compare_reads_a_store_on_read_only_media(read_only_media: tuple[Path, int]) -> None:
    path, n = read_only_media
    with pytest.raises(OSError):
        (path.parent / "probe").write_text("x")  # the media really is read-only
    _compare_reads(path, n)


def test_compare_reads_an_immutable_store_and_leaves_it_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    n = _store(path)
    if subprocess.run(["chattr", "+i", str(path)], check=False).returncode != 0:
        pytest.skip("chattr +i is not allowed here")
    try:
        before = _digest(path)
        _compare_reads(path, n)
        assert _digest(path) == before
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_an_older_store_is_read_through_a_migrated_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS[:1])
        n = _store(path)
    before = _digest(path)
    _compare_reads(path, n)
    assert _digest(path) == before
    with Store.open(path, read_only=True) as store:
        assert store.schema_version == len(migrations.MIGRATIONS)  # the copy's
    left = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("specscope-read-*")]
    assert left == []


def test_a_store_held_by_a_writer_is_one_line_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "busy.duckdb"
    _store(path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from specscope.store.db import Store\n"
            "s = Store.open(sys.argv[1])\n"
            "print('open', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(UserError) as info:
            compare_store(path)
    finally:
        holder.kill()
        holder.wait(10)
    message = str(info.value)
    assert "\n" not in message
    assert f"store {path} is open for writing by another process" in message
    assert "specscope import specscope" in message


def test_a_missing_store_is_not_created_by_a_reader(tmp_path: Path) -> None:
    path = tmp_path / "nothing.duckdb"
    with pytest.raises(UserError, match="no store at"):
        Store.open(path, read_only=True)
    assert not path.exists()
