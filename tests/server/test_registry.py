"""The model registry over REST (mlvc_server/server/registry.py): register, read, gated
promotion (409 with the gate results, nothing changed), approvals, rollback, history; and
an authorizer that lets a user read the registry but not move aliases."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jupyter_server.auth.authorizer import Authorizer

from mlvc_server import service
from mlvc_server.service import registry

from .conftest import Api


@pytest.fixture
def commits(
    notebook: Path, jp_root_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    monkeypatch.setenv("MLVC_CONFIG_DIR", str(tmp_path / "mlvc-config"))
    monkeypatch.setenv("MLVC_AUTHOR_NAME", "ana")
    a = service.commit(
        "one", {"w": np.arange(3)}, metrics={"auc": 0.7}, notebook=notebook, repo=jp_root_dir
    )
    b = service.commit(
        "two", {"w": np.arange(4)}, metrics={"auc": 0.9}, notebook=notebook, repo=jp_root_dir
    )
    return a, b


def registry_ref(root: Path) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(root / ".mlvc"), "rev-parse", "refs/mlvc/registry/churn"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


async def test_register_promote_approve_rollback_and_history(
    api: Api, jp_root_dir: Path, commits: tuple[str, str]
) -> None:
    a, b = commits
    first = await api.request(
        "POST", "models", "churn", "versions", body={"rev": a, "variable": "w", "message": "m1"}
    )
    assert first.code == 201 and first.headers["Location"].endswith("/mlvc/models/churn")
    v1 = json.loads(first.body)
    assert (v1["version"], v1["commit"], v1["kind"], v1["notebook"]) == (1, a, "npy", "train.ipynb")
    v2 = await api.post(
        "models",
        "churn",
        "versions",
        body={"rev": "HEAD", "variable": "w", "notebook": "train.ipynb"},
    )
    assert v2["version"] == 2 and v2["commit"] == b

    gated = await api.request(
        "PUT", "models", "churn", "gates", "production", body={"metrics": "metrics.auc >= 0.8"}
    )
    assert json.loads(gated.body)["gates"]["production"]["metrics"] == "metrics.auc >= 0.8"
    before = registry_ref(jp_root_dir)
    code, err = await api.error(
        "POST",
        "models",
        "churn",
        "promote",
        body={"version": 1, "alias": "production", "reason": "x"},
    )
    assert code == 409 and err["reason"] == "GateFailedError"
    assert "metrics gate failed" in err["message"]
    assert err["gates"][0]["gate"] == "metrics" and err["gates"][0]["ok"] is False
    assert registry_ref(jp_root_dir) == before  # nothing changed

    dry = await api.post(
        "models",
        "churn",
        "promote",
        body={"version": 1, "alias": "production", "reason": "x", "dry_run": True},
    )
    assert dry["promoted"] is False and dry["gates"][0]["ok"] is False
    await api.request("PUT", "models", "churn", "gates", "production", body={})  # no gates
    for v in (1, 2):
        done = await api.post(
            "models", "churn", "promote", body={"version": v, "alias": "production", "reason": "r"}
        )
        assert done["promoted"] and done["event"]["user"] == "ana"
    approval = await api.request(
        "POST",
        "models",
        "churn",
        "approvals",
        body={"version": 2, "alias": "staging", "comment": "ok"},
    )
    assert approval.code == 201 and json.loads(approval.body)["type"] == "approve"
    back = await api.post(
        "models", "churn", "rollback", body={"alias": "production", "reason": "bad"}
    )
    assert (back["version"], back["previous"]) == (1, 2)

    info = await api.get("models", "churn")
    assert info["aliases"] == {"production": 1} and [v["version"] for v in info["versions"]] == [
        2,
        1,
    ]
    assert (await api.get("models"))["models"][0]["name"] == "churn"
    events = (await api.get("models", "churn", "history"))["events"]
    assert [e["type"] for e in events] == [
        "rollback",
        "approve",
        "promote",
        "promote",
        "gates",
        "gates",
        "register",
        "register",
    ]
    assert events[0]["reason"] == "bad"
    # without ?path= the server's store is used
    resp = await api.fetch("mlvc", "models", "churn", method="GET")
    assert json.loads(resp.body)["name"] == "churn"


async def test_bad_input_is_a_4xx(api: Api, commits: tuple[str, str]) -> None:
    a, _b = commits
    assert (await api.error("GET", "models", "nope"))[0] == 404
    assert (await api.error("GET", "models", "a..b"))[0] == 400
    code, err = await api.error(
        "POST", "models", "churn", "versions", body={"rev": a, "variable": "x"}
    )
    assert code == 404 and err["reason"] == "VariableNotFoundError"
    await api.post("models", "churn", "versions", body={"rev": a, "variable": "w"})
    for body in (
        {"version": "1", "alias": "production", "reason": "x"},
        {"version": 1, "alias": "production"},
        {"version": 1, "alias": "latest", "reason": "x"},
        {"version": 1, "alias": "production", "reason": "x", "extra": 1},
    ):
        assert (await api.error("POST", "models", "churn", "promote", body=body))[0] == 400, body
    code, err = await api.error(
        "PUT", "models", "churn", "gates", "production", body={"metrics": "metrics.auc >"}
    )
    assert code == 400 and err["reason"] == "QueryError"
    code, _ = await api.error(
        "POST",
        "models",
        "churn",
        "promote",
        body={"version": 7, "alias": "production", "reason": "x"},
    )
    assert code == 404


class NoPromotion(Authorizer):  # type: ignore[misc]
    """Lets users read, register and approve, not ``execute`` on the registry."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        """Refuse ``execute`` on ``mlvc-registry``."""
        return not (resource == "mlvc-registry" and action == "execute")


class TestAnAuthorizerThatForbidsPromotion:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        return {
            **jp_server_config,
            "ServerApp": {**jp_server_config["ServerApp"], "authorizer_class": NoPromotion},
        }

    async def test_promote_is_403_and_changes_nothing_while_reads_work(
        self, api: Api, jp_root_dir: Path, commits: tuple[str, str]
    ) -> None:
        a, _b = commits
        await api.post("models", "churn", "versions", body={"rev": a, "variable": "w"})
        await api.request(
            "POST", "models", "churn", "approvals", body={"version": 1, "alias": "production"}
        )
        before = registry_ref(jp_root_dir)
        for method, parts, body in (
            ("POST", ("promote",), {"version": 1, "alias": "production", "reason": "x"}),
            ("POST", ("rollback",), {"alias": "production", "reason": "x"}),
            ("PUT", ("gates", "production"), {"approvals": 1}),
        ):
            code, err = await api.error(method, "models", "churn", *parts, body=body)
            assert code == 403 and "execute" in err["message"], (parts, err)
        assert registry_ref(jp_root_dir) == before
        assert registry.model("churn", repo=jp_root_dir)["aliases"] == {}
        info = await api.get("models", "churn")
        assert info["latest"] == 1 and info["aliases"] == {}
        assert len((await api.get("models", "churn", "history"))["events"]) == 2
