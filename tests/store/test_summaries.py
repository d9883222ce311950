"""The log cache never shows a damaged line (docs/reliability.md, "The log cache")."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from mlvc_server.store import summaries
from mlvc_server.store.repo import Store


def summary(i: int) -> dict[str, object]:
    cid = f"{i:040x}"
    return {
        "id": cid,
        "ts": 1_700_000_000 + i,
        "short_id": cid[:8],
        "message": f"run {i} ✓",
        "author": "Ana",
        "email": "ana@example.org",
        "time": "2026-01-01T00:00:00Z",
        "branch": "main",
        "notebook": "train.ipynb",
        "status": "ok",
        "params": {"lr": 0.001 * i},
        "metrics": {"acc": 0.5 + i / 1000, "loss": 1.25},
        "variables": ["model", "w"],
        "parents": [f"{i - 1:040x}"] if i else [],
    }


@pytest.fixture
def store(tmp_path: Path) -> Store:
    summaries.clear_memo()
    return Store.init(tmp_path)


def test_summaries_round_trip_and_the_in_memory_generation_is_not_stored(store: Store) -> None:
    for i in range(20):
        s = summary(i)
        s["gen"] = i + 1  # what the log walk adds in memory
        summaries.append(store, s)
    got = summaries.load(store)
    assert got == {summary(i)["id"]: summary(i) for i in range(20)}
    assert summaries.load(store) is got  # parsed once while the file is unchanged


def test_every_single_bit_flip_is_ignored_never_shown(store: Store) -> None:
    originals = {summary(i)["id"]: summary(i) for i in range(3)}
    for s in originals.values():
        summaries.append(store, s)
    path = summaries.cache_path(store)
    clean = path.read_bytes()
    rng = random.Random(0)
    positions = rng.sample(range(len(clean)), 250)  # MLVC_SUMMARY_FLIPS=all: every byte
    if os.environ.get("MLVC_SUMMARY_FLIPS") == "all":
        positions = list(range(len(clean)))
    shown_wrong = 0
    for pos in positions:
        for bit in (0, 5):
            damaged = bytearray(clean)
            damaged[pos] ^= 1 << bit
            path.write_bytes(bytes(damaged))
            summaries.clear_memo()
            got = summaries.load(store)
            for cid, s in got.items():
                if originals.get(cid) != s:
                    shown_wrong += 1
            # at most the damaged line is lost; the others are intact
            assert len(got) >= len(originals) - 1 or clean[pos] == ord("\n")
    assert shown_wrong == 0


def test_invalid_utf8_truncation_and_old_lines_are_dropped_and_the_file_mended(
    store: Store,
) -> None:
    good = [summary(i) for i in range(4)]
    for s in good:
        summaries.append(store, s)
    path = summaries.cache_path(store)
    lines = path.read_bytes().splitlines(keepends=True)
    mangled = (
        lines[0]
        + lines[1].replace(b"run 1", b"run \xff\xfe")  # invalid UTF-8
        + lines[2][: len(lines[2]) // 2]  # torn by a killed process
        + b"\n"
        + b'{"id":"'
        + b"9" * 40
        + b'","ts":1,"message":"old format, unhashed"}\n'
        + lines[3]
        + b"\x00\x00garbage\n"
    )
    path.write_bytes(mangled)
    summaries.clear_memo()

    got = summaries.load(store)

    assert got == {good[0]["id"]: good[0], good[3]["id"]: good[3]}
    assert path.read_bytes() == lines[0] + lines[3] or len(path.read_bytes().splitlines()) == 2
    # the caller re-derives the lost ones from their commits and appends them again
    summaries.append(store, good[1])
    assert summaries.load(store)[good[1]["id"]] == good[1]


def test_a_line_moved_to_another_commit_id_fails_its_check(store: Store) -> None:
    s = summary(1)
    summaries.append(store, s)
    path = summaries.cache_path(store)
    other = f"{2:040x}"
    path.write_bytes(path.read_bytes().replace(s["id"].encode(), other.encode()))  # type: ignore[union-attr]
    summaries.clear_memo()
    assert summaries.load(store) == {}
