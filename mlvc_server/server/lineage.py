"""The lineage handler: where a commit or a registered model version came from."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import render, service
from ..service.lineage import DEFAULT_DEPTH
from .base import MAX_NAME_CHARS, MlvcHandler, error
from .history import MAX_REV_CHARS, check_rev

#: The most data hops a request may ask lineage to follow.
MAX_DEPTH = 50


class LineageHandler(MlvcHandler):
    """``GET /mlvc/lineage?rev=&path=`` or ``?model=NAME@VERSION``: the lineage graph
    (``service.lineage``) with its Mermaid text."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer ``render.lineage_document(service.lineage(...))``.

        ``rev`` is looked up in the notebook ``path``; ``model`` names a model version
        (``path`` optional: the store is found from it, else from the server's store
        root). One of the two is required.
        """
        rev = check_rev("rev", self.query_str("rev", MAX_REV_CHARS))
        model = self.query_str("model", MAX_NAME_CHARS)
        if (rev is None) == (model is None):
            raise error(400, "give exactly one of 'rev' and 'model'")
        depth = self.query_int("depth", DEFAULT_DEPTH, 0, MAX_DEPTH)
        assert depth is not None
        if rev is not None or self.get_query_argument("path", None) is not None:
            nb = self.notebook()
            repo, notebook = nb.start, nb.file
        else:
            repo = self.mlvc.store_root or self.mlvc.root_dir
            notebook = None
        spec, of = (rev, "rev") if rev is not None else (model, "model")
        assert spec is not None
        lin = await self.call(
            service.lineage, spec, repo=repo, notebook=notebook, of=of, depth=depth
        )
        self.write_json(render.lineage_document(lin))
