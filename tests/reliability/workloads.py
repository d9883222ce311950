"""Workloads for the crash harness: what a killed child was doing, and how to check it.

Each value a commit stores is a function of ``(seed, i)`` (trial and commit number), so
the parent can say byte for byte what any commit it finds must hold, whether or not the
child lived long enough to report it.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import numpy as np

from mlvc_server import service
from mlvc_server.store import payloads

from .harness import Emit, Spawned, git

NOTEBOOK = "train.ipynb"
MAIN = f"refs/heads/{NOTEBOOK}/main"
#: Small chunks, so that one variable is several parts (as a big model is) at test size.
CHUNK = 1 << 16
_MESSAGE = re.compile(r"^seed=(\d+) i=(\d+)$")


@dataclass(frozen=True)
class Model:
    """A value no safe format holds: stored as a (signed) pickle."""

    seed: int
    i: int


def expected(seed: int, i: int) -> dict[str, Any]:
    """The variables commit ``i`` of trial ``seed`` stores."""
    rng = np.random.default_rng([seed, i])
    n = 12_000 + (i % 3) * 20_000  # 48-128 KiB: one to two parts of CHUNK
    return {
        "weights": rng.standard_normal(n).astype(np.float32),
        "frozen": np.arange(50_000, dtype=np.float64),  # the same in every commit
        "cfg": {"seed": seed, "i": i, "lr": 0.1 / (i + 1), "layers": [64, 32]},
        "model": Model(seed, i),
    }


def notebook_content(seed: int, i: int) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"seed, i = {seed}, {i}", id="c0")]
    return dict(nb)


def assert_same(name: str, got: Any, want: Any) -> None:
    if isinstance(want, np.ndarray):
        assert isinstance(got, np.ndarray), (name, type(got))
        assert got.dtype == want.dtype and got.shape == want.shape, name
        assert got.tobytes() == want.tobytes(), f"{name}: bytes differ"
    else:
        assert got == want, (name, got, want)


class CommitWorkload:
    """Commits through the Python API, one after another, to one branch."""

    name = "commit"

    def __init__(self, commits: int) -> None:
        self.commits = commits
        self.verified: set[str] = set()

    def setup(self, root: Path) -> None:
        service.init(root)
        nbformat.write(nbformat.from_dict(notebook_content(0, 0)), root / NOTEBOOK)

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        payloads.CHUNK_SIZE = CHUNK  # the child's own module: the parent keeps its value
        for i in range(self.commits):
            cid = service.commit(
                f"seed={seed} i={i}",
                variables=expected(seed, i),
                notebook=root / NOTEBOOK,
                notebook_content=notebook_content(seed, i),
                params={"lr": 0.1 / (i + 1)},
                metrics={"acc": i / 100},
                repo=root,
                sources=False,
            )
            emit("done", cid, seed, i)

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        """Every completed commit is on the branch; every commit the branch reaches holds
        exactly what it should."""
        for cid, _s, _i in done:
            is_ancestor = git(root, "merge-base", "--is-ancestor", cid, MAIN)
            assert is_ancestor.returncode == 0, f"completed commit {cid} is lost"
        for cid in git(root, "rev-list", MAIN).stdout.split():
            if cid not in self.verified:
                self.check_commit(root, cid)
                self.verified.add(cid)

    def check_commit(self, root: Path, cid: str) -> None:
        rec = service.show(cid, repo=root)
        m = _MESSAGE.match(rec["message"])
        assert m, rec["message"]
        s, i = int(m.group(1)), int(m.group(2))
        want = expected(s, i)
        assert sorted(rec["variables"]) == sorted(want), (cid, rec["variables"], rec["skipped"])
        got = service.restore(cid, None, repo=root)  # no trust: the pickle is ours, signed
        assert sorted(got) == sorted(want)
        for name, value in want.items():
            assert_same(f"{cid[:8]}:{name}", got[name], value)
        nb = service.notebook_at(cid, repo=root, notebook=NOTEBOOK)
        assert nb is not None
        source = json.loads(nb)["cells"][0]["source"]
        assert "".join(source) == f"seed, i = {s}, {i}", source
        assert rec["params"] == {"lr": 0.1 / (i + 1)} and rec["metrics"] == {"acc": i / 100}


class CliCommitWorkload:
    """One ``mlvc commit`` (a fresh interpreter) per trial; the parent checks its id."""

    name = "cli-commit"

    def setup(self, root: Path) -> None:
        service.init(root)
        nbformat.write(nbformat.from_dict(notebook_content(0, 0)), root / NOTEBOOK)

    def argv(self, seed: int) -> list[str]:
        return ["commit", "-m", f"cli seed={seed}", "-N", NOTEBOOK, "--param", f"seed={seed}"]

    def verify_output(self, root: Path, seed: int, proc: Spawned) -> None:
        cid = json.loads(proc.stdout)["id"]
        assert git(root, "merge-base", "--is-ancestor", cid, MAIN).returncode == 0
        rec = service.show(cid, repo=root)
        assert rec["message"] == f"cli seed={seed}" and rec["params"] == {"seed": seed}


class RefsWorkload:
    """A commit, then the ref updates users make: move an alias tag, create, rename and
    delete a branch. Each trial uses its own branch names; the alias moves every time."""

    name = "refs"

    def __init__(self) -> None:
        self.champion: str | None = None
        self.seen_states: set[tuple[int, bool, bool]] = set()

    def setup(self, root: Path) -> None:
        service.init(root)
        nbformat.write(nbformat.from_dict(notebook_content(0, 0)), root / NOTEBOOK)

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        nb = root / NOTEBOOK
        cid = service.commit(f"refs seed={seed}", notebook=nb, repo=root, sources=False)
        emit("done", "commit", cid)
        service.tag("champion", cid, repo=root, notebook=nb, force=True)
        emit("done", "tag", cid)
        service.branch(f"b{seed}", cid, repo=root, notebook=nb, switch=False)
        emit("done", "branch", cid)
        service.rename_branch(f"b{seed}", f"r{seed}", repo=root, notebook=nb)
        emit("done", "rename", cid)
        service.delete_branch(f"r{seed}", repo=root, notebook=nb)
        emit("done", "delete", cid)

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        """The refs are in a state the completed operations (and at most the one the
        kill interrupted) allow; the renamed branch is never lost on the way."""
        k = len(done)
        refs = {
            line.split()[1]: line.split()[0] for line in git(root, "show-ref").stdout.splitlines()
        }
        prefix = f"refs/heads/{NOTEBOOK}/"
        b, r = refs.get(f"{prefix}b{seed}"), refs.get(f"{prefix}r{seed}")
        champion = refs.get(f"refs/tags/{NOTEBOOK}/champion")
        cid = done[0][1] if done else refs.get(MAIN)
        if k >= 1:
            assert git(root, "merge-base", "--is-ancestor", cid, MAIN).returncode == 0
            rec = service.show(cid, repo=root)
            assert rec["message"] == f"refs seed={seed}"
        if k >= 2:
            assert champion == cid
        else:
            assert champion in (self.champion, cid)
        for sha in (b, r):
            assert sha is None or sha == cid, (sha, cid)
        if k <= 2:
            assert r is None
        elif k == 3:
            assert b is not None or r is not None, "the branch was lost while renamed"
        elif k == 4:
            assert b is None
        else:
            assert b is None and r is None
        self.seen_states.add((k, b is not None, r is not None))
        self.champion = champion


class WriterWorkload:
    """Concurrent writers: child ``seed`` makes ``commits`` commits to the (notebook,
    branch) ``targets[seed % len(targets)]``, starting when the file ``go`` appears."""

    name = "writer"

    def __init__(
        self, go: Path, targets: list[tuple[str, str]], commits: int, reuse: bool = False
    ) -> None:
        self.go = go
        self.targets = targets
        self.commits = commits
        #: also store ``old``: the bytes of the ``x`` of old commits, whose payloads gc
        #: may be deleting at that very moment
        self.reuse = reuse

    def setup(self, root: Path) -> None:
        service.init(root)
        for nb, _branch in self.targets:
            nbformat.write(nbformat.from_dict(notebook_content(0, 0)), root / nb)

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        nb, branch = self.targets[seed % len(self.targets)]
        while not self.go.exists():
            time.sleep(0.002)
        for i in range(self.commits):
            values: dict[str, Any] = {
                "x": np.full(2_000, seed * 1_000 + i),
                "cfg": {"w": seed, "i": i},
            }
            if self.reuse:
                values["old"] = np.arange(20_000.0) + i % 4
            cid = service.commit(
                f"writer {seed} commit {i}",
                variables=values,
                notebook=root / nb,
                branch=branch,
                repo=root,
                sources=False,
            )
            emit("done", cid, nb, branch)

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        for cid, _nb, _branch in done:
            rec = service.show(cid, repo=root)
            m = re.match(r"writer (\d+) commit (\d+)$", rec["message"])
            assert m, rec["message"]
            w, i = int(m.group(1)), int(m.group(2))
            got = service.restore(cid, None, repo=root)
            assert got["cfg"] == {"w": w, "i": i}
            assert_same(cid, got["x"], np.full(2_000, w * 1_000 + i))


def branch_ref(nb: str, branch: str) -> str:
    return f"refs/heads/{nb}/{branch}"


def assert_branches_hold_exactly(root: Path, made: dict[tuple[str, str], list[str]]) -> int:
    """Each branch holds the commits reported made to it, newest first and in one line of
    history, on top of the commits of the branch it started from (a new branch starts
    at the notebook's HEAD). No commit is lost, none is there twice, none appears that
    nobody reported. Returns the number of commits."""
    owner = {cid: key for key, ids in made.items() for cid in ids}
    assert len(owner) == sum(len(ids) for ids in made.values()), "an id was reported twice"
    everywhere: set[str] = set()
    for (nb, branch), ids in made.items():
        lines = git(root, "rev-list", "--parents", branch_ref(nb, branch)).stdout.splitlines()
        history = [line.split()[0] for line in lines]
        assert all(len(line.split()) <= 2 for line in lines), "a merge appeared"
        assert len(history) == len(set(history)), f"{nb}:{branch} holds a commit twice"
        own = history[: len(ids)]
        assert set(own) == set(ids), f"{nb}:{branch} lost commits (or they are not on top)"
        strangers = [c for c in history[len(ids) :] if owner.get(c) in (None, (nb, branch))]
        assert strangers == [], f"{nb}:{branch} holds commits nobody reported: {strangers}"
        everywhere.update(history)
    assert everywhere == set(owner)
    return len(owner)


class GcWorkload:
    """Retention and gc over a copy of a store whose older commits' payloads the policy
    frees (``keep_last=2``): history stays, the newest commits restore whole, older ones
    restore whole or say their payload was pruned, never anything in between."""

    name = "gc"

    def __init__(self) -> None:
        #: branch -> how many commits the template has on it
        self.branches = {"main": 5, "other": 3}
        self.values: dict[str, dict[str, Any]] = {}
        self.newest: set[str] = set()
        self.history: set[str] = set()

    def setup(self, root: Path) -> None:
        """Build the template store (copy it for each trial)."""
        service.init(root)
        nbformat.write(nbformat.from_dict(notebook_content(0, 0)), root / NOTEBOOK)
        for branch, n in self.branches.items():
            ids = []
            for i in range(n):
                values = {
                    "big": np.random.default_rng([len(branch), i]).standard_normal(20_000),
                    "cfg": {"branch": branch, "i": i},
                }
                cid = service.commit(
                    f"{branch} {i}",
                    variables=values,
                    notebook=root / NOTEBOOK,
                    branch=branch,
                    repo=root,
                    sources=False,
                )
                self.values[cid] = values
                ids.append(cid)
            self.newest.update(ids[-2:])
        self.history = set(self.values)

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        report = service.gc(repo=root, keep_last=2, grace="now")
        emit("done", "gc", len(report["commits_pruned"]))

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> int:
        """Returns how many commits had their big payload pruned."""
        from mlvc_server.errors import PayloadMissingError

        history = set(git(root, "rev-list", "--branches").stdout.split())
        assert history == self.history, "gc changed the history"
        pruned = 0
        for cid, values in self.values.items():
            assert service.show(cid, repo=root)["message"]  # records stay readable
            assert service.restore(cid, ["cfg"], repo=root)["cfg"] == values["cfg"]  # small: kept
            try:
                big = service.load(cid, "big", repo=root)
            except PayloadMissingError:
                assert cid not in self.newest, f"gc freed the payload of {cid}, a kept commit"
                pruned += 1
                continue
            assert_same(f"{cid[:8]}:big", big, values["big"])
        if done:  # gc finished: it freed exactly what the policy drops
            assert pruned == len(self.history) - len(self.newest), pruned
        return pruned
