"""The lineage views: the Mermaid flowchart (parsed by the real Mermaid parser, labels
escaped whatever they hold) and the text tree."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlvc_server import render

ROOT = Path(__file__).resolve().parents[2]
PARSER = Path(__file__).with_name("mermaid_parse.mjs")

#: Labels that would break a Mermaid flowchart if written as they are.
NASTY = [
    'fix "quotes" and ]brackets[ (parens) {braces}',
    "pipes | in -->|edges| and end",
    "<script>alert(1)</script> & <b>bold</b>",
    "line one\nline two\ttab; semi#colon %% comment",
    "click n0 call alert()",
    "ünïcödé ✓ 模型 `backticks` ~~~",
    "x" * 500,
]


def graph(messages: list[str]) -> dict[str, Any]:
    """A lineage graph: one commit per message reading one data file written by the next."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        cid = (f"{i:x}" * 40)[:40]
        nodes.append(
            {"id": f"commit:{cid}", "kind": "commit", "label": f"{cid[:8]} nb.ipynb: {msg}"}
        )
        path = f"data/{msg[:20]}.csv"
        did = f"data:{path}@blake3:{i:064x}"
        nodes.append(
            {
                "id": did,
                "kind": "data",
                "label": path,
                "path": path,
                "hash": f"blake3:{i:064x}",
                "size": 10,
                "producers": 1,
            }
        )
        edges.append({"from": did, "to": f"commit:{cid}", "label": "read"})
        if i + 1 < len(messages):
            edges.append(
                {"from": f"commit:{(f'{i + 1:x}' * 40)[:40]}", "to": did, "label": f"wrote {msg}"}
            )
    nodes += [
        {"id": "source:u.py@ab", "kind": "source", "label": "u.py", "path": 'u"].py'},
        {"id": "model:m@1", "kind": "model", "label": "m", "name": "m]x", "version": 1},
        {"id": "alias:m@prod", "kind": "alias", "label": "a", "name": "m", "alias": "p|d"},
    ]
    edges += [
        {"from": "source:u.py@ab", "to": f"commit:{0:040x}", "label": "imported"},
        {"from": f"commit:{0:040x}", "to": "model:m@1", "label": "registered"},
        {"from": "model:m@1", "to": "alias:m@prod", "label": "alias"},
    ]
    return {"root": f"commit:{0:040x}", "nodes": nodes, "edges": edges, "truncated": False}


def test_mermaid_labels_hold_only_safe_characters() -> None:
    text = render.lineage_mermaid(graph(NASTY))

    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    for line in lines[1:]:
        for label in [*_quoted(line), *_edge_labels(line)]:
            bare = re.sub(r"#\d+;", "", label)  # entity codes are how they are escaped
            assert not set(bare) & set('"<>[](){}|\n`;%#'), label
            assert len(label) < 400
    assert "#34;quotes#34;" in text and "#60;script#62;" in text  # escaped, kept
    assert "#124; in --#62;#124;edges#124;" in text


def _quoted(line: str) -> list[str]:
    if '"' not in line:
        return []
    return [line.split('"', 1)[1].rsplit('"', 1)[0]]


def _edge_labels(line: str) -> list[str]:
    return [line.split("|", 1)[1].rsplit("|", 1)[0]] if "-->|" in line else []


@pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "mermaid").is_dir(),
    reason="needs node and the frontend's node_modules (mermaid, jsdom)",
)
def test_the_real_mermaid_parser_accepts_every_graph(tmp_path: Path) -> None:
    files = []
    for i, messages in enumerate([NASTY, [NASTY[0]], ["plain"]]):
        f = tmp_path / f"g{i}.mmd"
        f.write_text(render.lineage_mermaid(graph(messages)))
        files.append(str(f))
    broken = tmp_path / "broken.mmd"  # the check can fail: an unescaped quote
    broken.write_text('flowchart LR\n  n0["a "quoted" label"] --> n1["b"]\n')
    files.append(str(broken))

    out = subprocess.run(
        ["node", str(PARSER), *files], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    results = {Path(r["file"]).name: r for r in map(json.loads, out.stdout.splitlines())}
    assert out.returncode == 0, out.stderr
    assert {n: r["ok"] for n, r in results.items()} == {
        "g0.mmd": True,
        "g1.mmd": True,
        "g2.mmd": True,
        "broken.mmd": False,
    }, results


def test_text_tree_shows_inputs_below_what_read_them() -> None:
    text = render.lineage_text(graph(["train", "prep", "raw"]))

    lines = text.splitlines()
    assert lines[0].startswith("commit 00000000 nb.ipynb: train")
    assert any("data data/train.csv" in x and "blake3:" in x for x in lines)
    written = [x for x in lines if "written as" in x]
    assert len(written) == 2
    assert "written as train by: commit 11111111 nb.ipynb: prep" in written[0]
    assert any('imported: source u"].py' in x for x in lines)
    # control characters from a message never reach the terminal
    assert "\x1b" not in render.lineage_text(graph(["evil \x1b[2J"]))


def test_document_is_the_graph_plus_mermaid() -> None:
    g = graph(["a"])
    doc = render.lineage_document(g)
    assert {k: doc[k] for k in g} == g
    assert doc["mermaid"] == render.lineage_mermaid(g)
