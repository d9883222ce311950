"""Pull and clone are atomic: a pull SIGKILLed at any file-system step leaves a whole store
(``git fsck`` and ``mlvc fsck`` clean, no ref on a commit whose objects are missing), and
the next plain pull completes it (docs/reliability.md, "Interrupted pulls").

Each trial copies a template store (a clone one commit behind the remote), forks a child
that pulls, kills it just before its N-th state-changing file-system call, checks the
store, pulls again in this process and checks that the store now equals the remote.
``MLVC_PULL_TRIALS`` sets how many kill points are tried (default 100; all of them when
that many or more).
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

from mlvc_server import service
from mlvc_server.store import sync
from mlvc_server.store.repo import Store

from .harness import Emit, age, check_store, leftovers, reset_caches, run_forked

STALE = 31


def pull_trials(default: int) -> int:
    return int(os.environ.get("MLVC_PULL_TRIALS", default))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Crash Test")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "crash@example.org")
    return tmp_path


def _refs(root: Path) -> dict[bytes, str]:
    with Store(root) as st:
        return {k: v for k, v in st.refs_under(b"refs/").items() if k.startswith(b"refs/heads/")}


class PullWorkload:
    """``mlvc pull`` of three new commits (variables with payload parts, a tag, a new
    branch) from a local bare remote into a clone that has the first commit only."""

    name = "pull"

    def __init__(self) -> None:
        self.remote_heads: dict[bytes, str] = {}
        self.start: dict[bytes, str] = {}

    def setup(self, base: Path) -> Path:
        """The remote and the source project; returns the template clone."""
        src, remote = base / "src", base / "remote.git"
        os.system(f"git init -q --bare {remote}")
        service.init(src)
        rng = np.random.default_rng(0)
        service.commit("c0", variables={"w": rng.normal(size=5000)}, repo=src, sources=False)
        service.remote_add("origin", str(remote), repo=src)
        service.push(repo=src)
        template = base / "template"
        service.clone(str(remote), template)
        reset_caches()
        self.start = _refs(template)
        for i in range(1, 4):
            service.commit(
                f"c{i}",
                variables={"w": rng.normal(size=5000), "b": rng.normal(size=300)},
                metrics={"acc": i / 10},
                repo=src,
                sources=False,
            )
        service.tag("best", "HEAD", repo=src)
        service.branch("other", "HEAD~1", repo=src)
        service.push(repo=src)
        reset_caches()
        with Store(src) as st:
            self.remote_heads = {
                k: v for k, v in st.refs_under(b"refs/").items() if k.startswith(b"refs/heads/")
            }
        return template

    def run(self, root: Path, seed: int, emit: Emit) -> None:
        with Store(root) as st:
            sync.pull(st, "origin")
        emit("done", "pull")

    def verify(self, root: Path, seed: int, done: list[list[str]]) -> None:
        heads = _refs(root)
        # every branch is where it was or where the remote has it: never elsewhere
        for ref, sha in heads.items():
            assert sha in (self.start.get(ref), self.remote_heads.get(ref)), (ref, sha)
        if done:
            assert heads == self.remote_heads


def settle(root: Path, killed: bool) -> None:
    check_store(root)
    fresh = time.time() - STALE + 1
    locks = [p for p in leftovers(root) if p.name.endswith(".lock") and p.stat().st_mtime > fresh]
    if not killed:
        assert locks == []
    assert len(locks) <= 1, locks
    for lock in locks:
        age(lock, STALE)  # a killed process's lock, once the clock has made it stale


def test_a_pull_killed_at_any_step_then_pulled_again_leaves_a_whole_store(
    project: Path,
) -> None:
    w = PullWorkload()
    template = w.setup(project)
    probe = project / "probe"
    shutil.copytree(template, probe, symlinks=True)
    counted = run_forked(w, probe, 0, crash_at=(1 << 30, "before"))
    assert counted.steps and not counted.killed
    total = counted.steps
    w.verify(probe, 0, counted.done)
    budget = pull_trials(100)
    if budget >= total:
        steps = list(range(1, total + 1))
    else:
        steps = sorted({1 + round(k * (total - 1) / max(1, budget - 1)) for k in range(budget)})
    broken = 0
    states: set[int] = set()
    for step in steps:
        root = project / f"t{step}"
        shutil.copytree(template, root, symlinks=True)
        result = run_forked(w, root, step, crash_at=(step, "before"))
        try:
            settle(root, result.killed)  # the killed state itself is whole
            w.verify(root, step, result.done)
            states.add(sum(1 for r, s in _refs(root).items() if w.remote_heads.get(r) == s))
            reset_caches()
            with Store(root) as st:  # then a plain pull finishes the job
                sync.pull(st, "origin")
            settle(root, False)
            w.verify(root, step, [["pull"]])
        except AssertionError:
            broken += 1
            raise
        finally:
            shutil.rmtree(root, ignore_errors=True)
    assert len(steps) >= min(100, total)
    print(
        f"pull crash figures: a pull of {total} file-system steps killed at {len(steps)} of "
        f"them, then pulled again: {broken} broken stores; branches at the remote's tip "
        f"after the kill: {sorted(states)} of {len(w.remote_heads)}"
    )
