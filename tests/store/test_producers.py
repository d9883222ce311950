"""The outputs index: lines verify, and anything damaged is left out (never misread)."""

from __future__ import annotations

from pathlib import Path

from mlvc_server.store import Store, producers


def test_lines_round_trip_and_damage_is_left_out(tmp_path: Path) -> None:
    store = Store.init(tmp_path)
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    producers.append(
        store,
        {
            a: producers.entry({"data/é.csv": "blake3:01"}, [], 100),
            b: producers.entry({}, [a], 200),
        },
    )
    assert producers.load(store) == {
        a: {"o": {"data/é.csv": "blake3:01"}, "p": [], "t": 100},
        b: {"o": {}, "p": [a], "t": 200},
    }

    path = store.state_dir / producers.FILE
    good = path.read_bytes()
    line_c = producers.line(c, producers.entry({"x": "blake3:02"}, [b], 300))
    flipped = good.replace(b"blake3:01", b"blake3:00")  # a's line no longer verifies
    path.write_bytes(flipped + line_c[: len(line_c) // 2] + b"\n" + b"not json\n")
    producers.clear_memo()

    assert producers.load(store) == {b: {"o": {}, "p": [a], "t": 200}}
