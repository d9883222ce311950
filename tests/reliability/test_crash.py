"""Crash safety: a writer SIGKILLed at any point leaves a whole store and loses nothing
it completed (docs/reliability.md, "Crash safety").

``MLVC_CRASH_TRIALS=500 pytest tests/reliability/test_crash.py -s -o timeout=3600`` runs
500 random kills and every crash step; the figures are printed as ``crash figures: ...``.
"""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path

import pytest

from mlvc_server.store import Store
from mlvc_server.store import repo as repo_mod

from .harness import (
    ChildResult,
    Emit,
    Fn,
    Workload,
    _checked,
    age,
    check_no_half_commit,
    check_store,
    leftovers,
    mlvc_command,
    reset_caches,
    run_forked,
    run_spawned,
    trials,
)
from .workloads import MAIN, CliCommitWorkload, CommitWorkload, GcWorkload, RefsWorkload

#: A lock older than this is taken for the leftover of a killed process (repo.py).
STALE = 31


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "Crash Test")
    monkeypatch.setenv("MLVC_AUTHOR_EMAIL", "crash@example.org")
    root = tmp_path / "project"
    root.mkdir()
    return root


def settle(root: Path, result: ChildResult) -> int:
    """The checks after a trial; returns how many locks the kill left.

    A child that was not killed leaves no lock and no temporary file. A killed one may
    leave its temporary files (inert: nothing refers to them) and, if killed while
    holding it, the lock of one ref (or of HEAD): that is aged past the staleness limit
    here, as the clock would do, so that the next trial's writer must break it (repo.py).
    """
    check_store(root)
    fresh = time.time() - STALE + 1  # locks of earlier trials were aged already
    left = leftovers(root)
    locks = [p for p in left if p.name.endswith(".lock") and p.stat().st_mtime > fresh]
    if not result.killed:
        assert locks == [], locks
        mine = (f"_{result.pid}_", f".{result.pid}.")
        assert not [p for p in left if any(m in p.name for m in mine)], "temporary files left"
        return 0
    store = root / ".mlvc"
    assert all(p.is_relative_to(store / "refs") or p == store / "HEAD.lock" for p in locks)
    # one ref's lock, and maybe the payload index's: a commit moves the index while it
    # holds its branch's lock (so that a failure moves neither, see repo.BEFORE_REF_MOVE)
    index = store / "refs" / "mlvc" / "payloads.lock"
    assert len([p for p in locks if p != index]) <= 1, locks
    for lock in locks:
        age(lock, STALE)
    return len(locks)


def plan(total: int, budget: int) -> list[int]:
    """The crash steps to try out of ``1..total``: all of them when the budget allows,
    else ``budget`` spread evenly, always with the last 16 (the ref updates)."""
    if budget >= total:
        return list(range(1, total + 1))
    tail = list(range(max(1, total - 15), total + 1))
    spread = [1 + round(k * (total - 1) / max(1, budget - 1)) for k in range(budget)]
    return sorted(set(spread + tail))


def count_steps(w: Workload, root: Path, seed: int) -> int:
    """How many file-system steps one commit takes (a run with an unreachable crash step)."""
    probe = run_forked(w, root, seed, crash_at=(1 << 30, "before"))
    assert probe.steps is not None and not probe.killed
    return probe.steps


@pytest.fixture
def no_pack_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small packs are merged every few commits, adding steps to those commits only: a
    sweep over the steps of one commit needs every commit to take the same steps.
    (Merges are swept on their own: test_pack_merges_killed_at_each_step_lose_nothing.)"""
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 1 << 30)


@pytest.mark.usefixtures("no_pack_merges")
def test_a_commit_killed_at_each_file_system_step_leaves_a_whole_store(project: Path) -> None:
    w = CommitWorkload(commits=1)
    w.setup(project)
    run_forked(w, project, 0)  # the steady state: the store has a commit already
    total = count_steps(w, project, 1)
    seed, runs, kills, torn, locks = 2, 0, 0, 0, 0
    # every step, also in CI (~20 s): a sample missed the torn writes or the ref lock
    # in some runs, as the step count moves by a few between runs
    steps = plan(total + 2, trials(total + 2))
    for step in steps:
        result = run_forked(w, project, seed, crash_at=(step, "before"))
        outcomes = [(seed, result)]
        seed += 1
        if result.at in ("write", "writev", "file.write"):
            outcomes.append((seed, run_forked(w, project, seed, crash_at=(step, "torn"))))
            seed += 1
            torn += 1
        for s, r in outcomes:
            runs += 1
            kills += r.killed
            locks += settle(project, r)
            w.verify(project, s, r.done)
            assert r.killed or len(r.done) == 1
    assert not result.killed  # the sweep went past the last step of a commit
    check_no_half_commit(project)
    check_store(project, fsck_cli=True)
    print(
        f"crash figures: a commit of {total} steps killed at {len(steps)} of them: {runs} "
        f"trials, {kills} killed ({torn} mid-write), {locks} left a ref lock; all survived"
    )
    # (a commit is ~26 steps since small objects are written as one pack)
    assert total > 20 and torn > 5 and locks >= 1  # the sweep did reach the ref update


@pytest.mark.usefixtures("no_pack_merges")
def test_the_first_commit_killed_at_each_step_leaves_a_usable_store(project: Path) -> None:
    w = CommitWorkload(commits=1)
    fresh = project / "probe"
    fresh.mkdir()
    w.setup(fresh)
    total = count_steps(w, fresh, 0)
    steps = plan(total, trials(8))
    for step in steps:
        root = project / f"s{step}"
        root.mkdir()
        w.setup(root)
        result = run_forked(w, root, step, crash_at=(step, "before"))
        settle(root, result)
        w.verify(root, step, result.done)
        after = run_forked(w, root, 10_000 + step)  # the next commit works
        settle(root, after)
        w.verify(root, 10_000 + step, after.done)
        assert (root / ".mlvc" / "HEAD").read_text() == f"ref: {MAIN}\n"
    print(f"crash figures: first commit killed at {len(steps)} of its {total} steps; all survived")
    assert total > 20


def test_pack_merges_killed_at_each_step_lose_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 1 << 30)
    w = CommitWorkload(commits=1)
    w.setup(project)
    for seed in range(6):  # a pack per commit (objects and payload index), none merged
        w.verify(project, seed, run_forked(w, project, seed).done)
    packs = sorted((project / ".mlvc" / "objects" / "pack").glob("*.pack"))
    assert len(packs) >= 6
    reachable = check_no_half_commit(project)
    monkeypatch.setattr(repo_mod, "_MERGE_WIDTH", 2)

    def merging(root: Path, seed: int, emit: Emit) -> None:
        st = Store(root)
        st._merge_due = True
        st.merge_packs()
        st.repo.close()
        emit("done", "merged")

    probe = run_forked(Fn(merging), project, 0, crash_at=(1 << 30, "before"))
    assert probe.steps is not None and probe.steps > 4
    total = probe.steps
    for step in plan(total + 1, trials(total + 1)):
        result = run_forked(Fn(merging), project, step, crash_at=(step, "before"))
        settle(project, result)
        check_no_half_commit(project)
        _checked.pop(project, None)  # every commit again next time: its objects moved
        assert check_no_half_commit(project) == reachable
    left = len(list((project / ".mlvc" / "objects" / "pack").glob("*.pack")))
    print(f"crash figures: pack merges killed at each of their {total} steps; all survived")
    assert left < len(packs)


def test_commits_killed_at_random_times_lose_nothing(project: Path) -> None:
    n = trials(12)
    rng = random.Random(20240611)
    w = CommitWorkload(commits=1_000)
    completed = 0
    root = project
    for seed in range(n):
        if seed % 25 == 0:  # a fresh store now and then keeps each fsck small
            root = project / f"store{seed}"
            root.mkdir()
            w.setup(root)
        result = run_forked(w, root, seed, kill_after=rng.uniform(0.0, 0.25))
        assert result.killed, "the child finished 1,000 commits before its kill"
        settle(root, result)
        w.verify(root, seed, result.done)
        completed += len(result.done)
    check_no_half_commit(root)
    check_store(root, fsck_cli=True)
    print(
        f"crash figures: {n} random kills during commit loops, {completed} commits "
        "completed before the kills, all intact and restorable"
    )
    assert completed > 0


def test_cli_commits_killed_at_random_times_lose_nothing(project: Path) -> None:
    n = max(4, trials(16) // 4)
    rng = random.Random(7)
    w = CliCommitWorkload()
    w.setup(project)

    def argv(seed: int) -> list[str]:
        return [*mlvc_command(), "-C", str(project), *w.argv(seed), "--json"]

    started = time.monotonic()
    proc, _ = run_spawned(argv(0), project, kill_after=None)
    whole = time.monotonic() - started  # kills are spread over a whole run, start to end
    w.verify_output(project, 0, proc)
    finished = killed = 0
    for seed in range(1, n + 1):
        delay = whole * (seed - rng.random()) / n
        proc, was_killed = run_spawned(argv(seed), project, kill_after=delay)
        settle(project, ChildResult(pid=proc.pid, killed=was_killed))
        if was_killed:
            killed += 1
        else:
            assert proc.returncode == 0, proc.stderr
            w.verify_output(project, seed, proc)
            finished += 1
    check_no_half_commit(project)
    print(f"crash figures: {n} mlvc commit processes, {killed} killed, {finished} finished")
    assert killed > 0


@pytest.mark.usefixtures("no_pack_merges")
def test_ref_updates_killed_at_each_step_keep_refs_consistent(project: Path) -> None:
    w = RefsWorkload()
    w.setup(project)
    total = count_steps(w, project, 0)
    steps = plan(total + 1, trials(total + 1))  # every step: see the commit test
    for step in steps:
        result = run_forked(w, project, step, crash_at=(step, "before"))
        settle(project, result)
        w.verify(project, step, result.done)
    assert not result.killed
    print(
        f"crash figures: a commit and 4 ref updates ({total} steps) killed at {len(steps)} "
        f"of them, {len(w.seen_states)} distinct ref states met, each allowed"
    )
    assert (3, True, True) in w.seen_states  # killed mid-rename: both names, never neither


def gc_trial_root(template: Path, base: Path, k: int) -> Path:
    root = base / f"gc{k}"
    shutil.copytree(template, root, symlinks=True)
    return root


def test_gc_killed_at_each_step_frees_payloads_all_or_nothing(project: Path) -> None:
    w = GcWorkload()
    template = project / "template"
    template.mkdir()
    w.setup(template)
    reset_caches()
    probe = gc_trial_root(template, project, 0)
    total = count_steps(w, probe, 0)
    w.verify(probe, 0, [["gc"]])
    steps = plan(total + 1, trials(10))
    states = set()
    for step in steps:
        root = gc_trial_root(template, project, step)
        result = run_forked(w, root, step, crash_at=(step, "before"))
        settle(root, result)
        pruned = w.verify(root, step, result.done)
        states.add(pruned)
        again = run_forked(w, root, step)  # the next gc finishes the job
        settle(root, again)
        w.verify(root, step, again.done)
        shutil.rmtree(root)
    assert not result.killed
    print(
        f"crash figures: gc of {total} steps killed at {len(steps)} of them; "
        f"pruned counts met: {sorted(states)}; the next gc always finished the job"
    )


def test_gc_killed_at_random_times_frees_payloads_all_or_nothing(project: Path) -> None:
    w = GcWorkload()
    template = project / "template"
    template.mkdir()
    w.setup(template)
    reset_caches()
    rng = random.Random(3)
    started = time.monotonic()
    run_forked(w, gc_trial_root(template, project, 0), 0)
    whole = time.monotonic() - started
    n = max(3, trials(12) // 4)
    killed = 0
    for k in range(1, n + 1):
        root = gc_trial_root(template, project, k)
        result = run_forked(w, root, k, kill_after=rng.uniform(0, whole))
        killed += result.killed
        settle(root, result)
        w.verify(root, k, result.done)
        shutil.rmtree(root)
    print(f"crash figures: {n} gc runs killed at random times ({killed} before the end)")
