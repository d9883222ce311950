"""mlvc: version control for machine-learning experiments, inside JupyterLab.

Python API (the magics, the CLI and the REST API are built on it)::

    import mlvc_server as mlvc
    mlvc.init(path=".")
    cid = mlvc.commit("message", variables={"model": m, "lr": 0.1}, notebook="train.ipynb",
                      params={...}, metrics={...}, data=["data/train.csv"], repo=".")
    mlvc.load(cid, "model", repo=".")
    mlvc.restore(cid, names=None, repo=".")
    mlvc.log(repo=".", notebook=None, where="metrics.acc > 0.9 and params.C < 1")
    mlvc.compare(repo=".", where='branch ~ "sweep/*"')
    mlvc.diff(a, b, repo=".")
    mlvc.register("churn", cid, "model", repo=".")      # the model registry
    mlvc.promote("churn", 1, "production", reason="beats v0", repo=".")
    clf = mlvc.load_model("churn@production", repo=".")

Importing this package is cheap: the heavy modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_API = (
    "init",
    "commit",
    "log",
    "show",
    "load",
    "restore",
    "diff",
    "status",
    "branch",
    "branches",
    "checkout",
    "tag",
    "tags",
    "fsck",
    "du",
    "log_params",
    "log_metrics",
    "compare",
    "lineage",
    "register",
    "models",
    "model",
    "resolve",
    "load_model",
    "check_gates",
    "promote",
    "approve",
    "set_gates",
    "rollback",
    "model_history",
)

__all__ = [
    "MlvcError",
    "__version__",
    "approve",
    "branch",
    "branches",
    "check_gates",
    "checkout",
    "commit",
    "compare",
    "diff",
    "du",
    "fsck",
    "init",
    "lineage",
    "load",
    "load_model",
    "log",
    "log_metrics",
    "log_params",
    "model",
    "model_history",
    "models",
    "promote",
    "register",
    "resolve",
    "restore",
    "rollback",
    "set_gates",
    "show",
    "status",
    "tag",
    "tags",
]

if TYPE_CHECKING:
    from .errors import MlvcError
    from .service import (
        approve,
        branch,
        branches,
        check_gates,
        checkout,
        commit,
        compare,
        diff,
        du,
        fsck,
        init,
        load,
        load_model,
        log,
        log_metrics,
        log_params,
        model,
        model_history,
        models,
        promote,
        register,
        resolve,
        restore,
        rollback,
        set_gates,
        show,
        status,
        tag,
        tags,
    )
    from .service.lineage import lineage


def __getattr__(name: str) -> Any:
    if name in _API:
        from . import service

        return getattr(service, name)
    if name == "MlvcError":
        from .errors import MlvcError

        return MlvcError
    raise AttributeError(f"module 'mlvc_server' has no attribute {name!r}")


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext mlvc_server``: register the ``%mlvc`` magics (imports nothing heavy)."""
    from .kernel import load_ipython_extension as load

    load(ip)


def unload_ipython_extension(ip: Any) -> None:
    """``%unload_ext mlvc_server``: stop data lineage and autocommit."""
    from .kernel import unload_ipython_extension as unload

    unload(ip)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-mlvc"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import MlvcApp

    return [{"module": "mlvc_server", "app": MlvcApp}]
