"""service.sweeps: the plan, branches, resume, lost runs, progress (an in-process
executor that commits as ``mlvc run`` would, without a kernel)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from mlvc_server import service
from mlvc_server.errors import InvalidNameError
from mlvc_server.service.sweeps import (
    SweepCancel,
    SweepJob,
    SweepProgress,
    combo_label,
    plan,
    sweep,
)


def test_plan_is_the_grid_or_a_seeded_sample() -> None:
    jobs = plan({"lr": [0.1, 0.01], "C": [1, 10, 100]}, name="s", notebook="train.ipynb")
    assert [j.params for j in jobs][:3] == [
        {"lr": 0.1, "C": 1},
        {"lr": 0.1, "C": 10},
        {"lr": 0.1, "C": 100},
    ]
    assert len(jobs) == 6 and jobs[0].branch == "sweep/s/lr=0.1+C=1"
    assert jobs[0].message == "sweep s: train.ipynb lr=0.1 C=1"
    a = plan({"x": list(range(10)), "y": [1, 2]}, name="s", notebook="n", random=5, seed=3)
    b = plan({"x": list(range(10)), "y": [1, 2]}, name="s", notebook="n", random=5, seed=3)
    assert [j.params for j in a] == [j.params for j in b] and len(a) == 5
    assert len(plan({"x": [1, 2]}, name="s", notebook="n", random=50)) == 2
    for bad in ({}, {"x": []}):
        with pytest.raises(InvalidNameError):
            plan(bad, name="s", notebook="n")
    with pytest.raises(InvalidNameError):
        plan({"x": [1]}, name="bad name", notebook="n")


def test_labels_are_branch_safe_and_unique() -> None:
    assert combo_label({"lr": 0.1, "opt": "adam"}) == "lr=0.1+opt=adam"
    odd = combo_label({"layers": [64, 32], "name": "a b"})
    other = combo_label({"layers": [64, 31], "name": "a b"})
    assert odd != other and " " not in odd and "[" not in odd


def fake_runner(
    root: Path,
    fail: set[str] = frozenset(),
    lose: set[str] = frozenset(),  # type: ignore[assignment]
    stop_at: set[str] = frozenset(),  # type: ignore[assignment]
) -> Callable[..., None]:
    def execute(
        todo: Sequence[SweepJob],
        done: Callable[[SweepJob, Mapping[str, Any]], None],
        cancel: SweepCancel,
    ) -> None:
        for job in todo:
            if cancel.cancelled:
                return  # as the CLI's executors: no run starts once cancelled
            if job.label in stop_at:
                cancel.cancel("test")  # cancelled while this one runs: it stops
                done(job, {"status": "cancelled"})
                continue
            if job.label in lose:
                done(job, {"status": "lost", "error": "KilledWorker"})
                continue
            status = "failed" if job.label in fail else "ok"
            cid = service.commit(
                job.message,
                repo=root,
                notebook=root / "train.ipynb",
                params=job.params,
                metrics={} if status == "failed" else {"acc": job.params["C"] / 10},
                branch=job.branch,
                status=status,
                sources=False,
            )
            done(job, {"status": status, "commit": cid, "seconds": 0.01})

    return execute


def test_sweep_branches_resume_lost_and_progress(project: Path) -> None:
    nb = project / "train.ipynb"
    service.commit("base", repo=project, notebook=nb, sources=False)
    axes = {"C": [1, 2, 3]}
    seen: list[SweepProgress] = []
    first = sweep(
        axes,
        fake_runner(project, fail={"C=2"}, lose={"C=3"}),
        repo=project,
        notebook=nb,
        name="t",
        on_progress=seen.append,
    )
    assert [o.status for o in first] == ["ok", "failed", "lost"]
    assert seen[0].last is None and seen[0].counts == {"skipped": 0}  # the start
    seen = seen[1:]
    assert [p.done for p in seen] == [1, 2, 3] and seen[-1].counts == {
        "ok": 1,
        "failed": 1,
        "lost": 1,
    }
    assert seen[0].eta is not None and seen[0].total == 3
    names = {b["name"]: b for b in service.branches(repo=project, notebook=nb)}
    assert {"sweep/t/C=1", "sweep/t/C=2", "sweep/t/C=3"} <= set(names)
    assert names["main"]["current"]  # back on the branch it was on
    ok_commit = first[0].commit
    assert service.show("sweep/t/C=1", repo=project, notebook=nb)["id"] == ok_commit
    # resume: the ok run is skipped, the failed and lost ones run again
    second = sweep(axes, fake_runner(project), repo=project, notebook=nb, name="t")
    assert [o.status for o in second] == ["skipped", "ok", "ok"]
    assert second[0].commit == ok_commit
    found = service.log(repo=project, notebook=nb, where='branch ~ "sweep/t/*" and status = ok')
    assert {c["params"]["C"] for c in found} == {1, 2, 3}


def test_a_cancelled_sweep_commits_nothing_more_and_resumes_the_rest(project: Path) -> None:
    nb = project / "train.ipynb"
    base = service.commit("base", repo=project, notebook=nb, sources=False)
    axes = {"C": [1, 2, 3, 4]}
    seen: list[SweepProgress] = []
    first = sweep(
        axes,
        fake_runner(project, stop_at={"C=2"}),
        repo=project,
        notebook=nb,
        name="c",
        on_progress=seen.append,
    )
    assert [o.status for o in first] == ["ok", "cancelled", "cancelled", "cancelled"]
    assert first[0].commit and not any(o.commit for o in first[1:])
    assert first[3].error == "test"  # never started: the cancel's reason
    assert seen[-1].eta is None and seen[-1].counts == {"ok": 1, "cancelled": 1}
    # the branches made for the runs that never committed are gone; the ok one stays
    names = {b["name"] for b in service.branches(repo=project, notebook=nb)}
    assert "sweep/c/C=1" in names and not names & {"sweep/c/C=2", "sweep/c/C=3", "sweep/c/C=4"}
    assert service.show("HEAD", repo=project, notebook=nb)["id"] == base
    # resume: only the combinations without an ok commit run
    ran: list[str] = []
    runner = fake_runner(project)

    def counting(todo: Sequence[SweepJob], done: Any, cancel: SweepCancel) -> None:
        ran.extend(j.label for j in todo)
        runner(todo, done, cancel)

    second = sweep(axes, counting, repo=project, notebook=nb, name="c")
    assert ran == ["C=2", "C=3", "C=4"]
    assert [o.status for o in second] == ["skipped", "ok", "ok", "ok"]
    assert second[0].commit == first[0].commit


def test_a_sweep_cancelled_before_it_starts_runs_nothing(project: Path) -> None:
    nb = project / "train.ipynb"
    service.commit("base", repo=project, notebook=nb, sources=False)
    cancel = SweepCancel()
    assert cancel.cancel("early") and not cancel.cancel("again")
    called: list[int] = []
    assert cancel.on_cancel(lambda: called.append(1)) is not None and called == [1]
    out = sweep(
        {"C": [1, 2]}, fake_runner(project), repo=project, notebook=nb, name="e", cancel=cancel
    )
    assert [(o.status, o.error) for o in out] == [("cancelled", "early")] * 2
    assert not [
        b for b in service.branches(repo=project, notebook=nb) if b["name"].startswith("sweep/e/")
    ]
