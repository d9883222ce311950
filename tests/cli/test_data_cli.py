"""`mlvc track --content`, `mlvc data diff` and `mlvc data checkout` in a terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cli import js, run


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "CI bot")
    monkeypatch.delenv("MLVC_DATA_CONTENT_MAX", raising=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t.csv").write_text("id,x\n1,a\n2,b\n3,c\n")
    run(tmp_path, "init")
    return tmp_path


def test_track_content_then_diff_and_checkout(project: Path) -> None:
    out = run(project, "track", "--content", "data/**", "--content-max", "1M").stdout
    assert "content data/**" in out and "up to 1 MiB" in out
    assert js(project, "track") == {
        "patterns": ["data/**"],
        "max_bytes": 1 << 20,
        "max_bytes_from": "config",
    }
    run(project, "commit", "-m", "one", "--data", "data")
    (project / "data" / "t.csv").write_text("id,x\n1,a\n2,B\n3,c\n4,d\n")
    run(project, "commit", "-m", "two", "--data", "data")

    text = run(project, "data", "diff").stdout
    assert "changed  data/t.csv" in text and "rows 3 -> 4: +2 -1" in text
    d = js(project, "data", "diff", "HEAD~1", "HEAD", "--key", "id")
    assert d["files"][0]["rows"] == {
        "a": 3,
        "b": 4,
        "added": 1,
        "removed": 0,
        "changed": 1,
        "key": "id",
    }

    text = run(project, "data", "checkout", "HEAD~1", "--dry-run").stdout
    assert "Would write data/t.csv" in text
    assert (project / "data" / "t.csv").read_text().endswith("4,d\n")
    res = js(project, "data", "checkout", "HEAD~1", "data/t.csv")
    assert res["restored"] == ["data/t.csv"]
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,b\n3,c\n"
    assert Path(res["safety_copies"]["data/t.csv"]).read_text().endswith("4,d\n")

    bad = run(project, "data", "checkout", "HEAD", "data/none.csv", ok=False)
    assert bad.returncode == 1 and "read no data file 'data/none.csv'" in bad.stderr
    run(project, "track", "--content", "data/**", "--remove")
    assert js(project, "track")["patterns"] == []


def test_checkout_with_data_puts_the_files_back_too(project: Path) -> None:
    run(project, "track", "--content", "data/**")
    run(project, "commit", "-m", "one", "--data", "data")
    run(project, "tag", "one")
    (project / "data" / "t.csv").write_text("id,x\n1,a\n2,B\n")
    run(project, "commit", "-m", "two", "--data", "data")

    out = run(project, "checkout", "one").stdout
    assert "Checked out" in out and "data/t.csv" not in out
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,B\n"
    out = run(project, "checkout", "one", "--data").stdout
    assert "Wrote data/t.csv (current file kept as" in out
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,b\n3,c\n"
    res = js(project, "checkout", "main", "--data", "data/*.csv")
    assert res["data"]["restored"] == ["data/t.csv"] and res["data"]["dry_run"] is False
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,B\n"
    bad = run(project, "checkout", "one", "--data", "data/none.csv", ok=False)
    assert bad.returncode == 1 and "read no data file 'data/none.csv'" in bad.stderr
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,B\n"


def test_data_undo_puts_back_what_a_checkout_replaced(project: Path) -> None:
    run(project, "track", "--content", "data/**")
    run(project, "commit", "-m", "one", "--data", "data")
    (project / "data" / "t.csv").write_text("id,x\n9,z\n")  # never committed
    out = run(project, "checkout", "HEAD", "--data").stdout
    name = out.split("mlvc data undo ", 1)[1].split()[0]
    assert (project / "data" / "t.csv").read_text() == "id,x\n1,a\n2,b\n3,c\n"
    out = run(project, "data", "undo").stdout
    assert "Put back as before the checkout of" in out and "data/t.csv" in out
    assert (project / "data" / "t.csv").read_text() == "id,x\n9,z\n"
    bad = run(project, "data", "undo", name, ok=False)
    assert bad.returncode == 1 and "undone already" in bad.stderr
    bad = run(project, "data", "undo", ok=False)
    assert bad.returncode == 1 and "no data checkout to undo" in bad.stderr
