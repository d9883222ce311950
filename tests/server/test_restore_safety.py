"""A restore's safety commit is made only when a replaced variable holds something no
commit holds: restoring again, or from another commit, right after a restore (and its
safety commit) commits nothing (mlvc_server/kernel/session.py ``unsaved``).

A real python3 kernel started by the server for the notebook's session, asked through
``POST /mlvc/restore`` as the panel asks.
"""

from __future__ import annotations

from pathlib import Path

from mlvc_server import service

from .conftest import Api, KernelSession


def safety_commits(root: Path) -> list[str]:
    return [
        c["id"] for c in service.log(repo=root, notebook="train.ipynb") if c.get("kind") == "safety"
    ]


async def test_restore_after_a_restore_makes_no_second_safety_commit(
    api: Api, kernel: KernelSession, jp_root_dir: Path
) -> None:
    await kernel.start()
    await kernel.run("a = 1\nb = 'kept'")
    one = (await api.post("commits", body={"message": "one"}))["commit"]["id"]
    await kernel.run("a = 10")
    two = (await api.post("commits", body={"message": "two"}))["commit"]["id"]

    # the user's own value is saved first
    await kernel.run("a = 99")
    first = await api.post("restore", body={"rev": one, "names": ["a"], "safety": True})
    assert first["restored"] == ["a"] and first["safety_commit"] is not None
    assert service.load(first["safety_commit"], "a", repo=jp_root_dir) == 99
    assert await kernel.value("a") == 1
    assert safety_commits(jp_root_dir) == [first["safety_commit"]]

    # a is commit one's value: nothing to save, whether restored again or from two
    again = await api.post("restore", body={"rev": one, "names": ["a"], "safety": True})
    assert again["safety_commit"] is None
    other = await api.post("restore", body={"rev": two, "names": ["a"], "safety": True})
    assert other["safety_commit"] is None
    assert await kernel.value("a") == 10
    back = await api.post("restore", body={"rev": one, "names": ["a"], "safety": True})
    assert back["safety_commit"] is None
    assert safety_commits(jp_root_dir) == [first["safety_commit"]]

    # changed after the restore: saved again
    await kernel.run("a = 5")
    changed = await api.post("restore", body={"rev": two, "names": ["a"], "safety": True})
    assert changed["safety_commit"] is not None
    assert service.load(changed["safety_commit"], "a", repo=jp_root_dir) == 5
    assert len(safety_commits(jp_root_dir)) == 2
