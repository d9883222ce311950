"""mlvc inside the kernel: the ``%mlvc`` magics, data lineage, restore into the namespace.

``%load_ext mlvc_server`` calls :func:`load_ipython_extension`, which registers the
magics and starts recording the data files the code reads. Loading imports no numpy,
pandas, torch or dulwich: the store loads on the first command that needs it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension", "unload_ipython_extension"]

_magics: Any = None


def load_ipython_extension(ip: Any) -> None:
    """Register ``%mlvc`` and start automatic data lineage (idempotent).

    Args:
        ip: the IPython shell.
    """
    global _magics
    from . import dirty
    from .lineage import lineage
    from .magics import MlvcMagics

    if _magics is not None and _magics.shell is ip:
        return
    _magics = MlvcMagics(ip)
    ip.register_magics(_magics)
    dirty.install(ip)
    _, nb_file = _magics.session.notebook()
    lineage.install(_magics.session.repo(nb_file))


def unload_ipython_extension(ip: Any) -> None:
    """Remove ``%mlvc``, stop lineage and autocommit (``%unload_ext mlvc_server``).

    Args:
        ip: the IPython shell.
    """
    global _magics
    from . import dirty
    from .lineage import lineage

    dirty.uninstall(ip)
    lineage.enabled = False
    if _magics is not None:
        _magics.close()
        ip.magics_manager.magics["line"].pop("mlvc", None)
        _magics = None
