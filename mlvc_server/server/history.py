"""Handlers that read and shape history: status, init, log, one commit, branches, tags."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .. import service
from ..errors import NotARepositoryError
from .base import (
    MlvcHandler,
    Notebook,
    check_text,
    error,
    field_bool,
    field_str,
    validate_ref_name,
)
from .kernels import find_kernel

#: The longest query (``where``) accepted, as ``service.query`` accepts.
MAX_QUERY_CHARS = 4_000
#: The longest revision accepted (``HEAD~12``, a commit id, ``notebook.ipynb/branch``).
MAX_REV_CHARS = 512


def check_rev(name: str, value: str | None) -> str | None:
    """Check a revision from a request (None stays None).

    Raises:
        tornado.web.HTTPError: 400 if it is too long, has control characters or spaces.
    """
    if value is None or value == "":
        return None
    check_text(name, value, MAX_REV_CHARS)
    if any(c.isspace() for c in value):
        raise error(400, f"{name} must not contain spaces")
    return value


def _root_label(root: Path, server_root: Path) -> str:
    """A store's folder as the frontend may show it: relative to the server root."""
    try:
        rel = root.relative_to(server_root).as_posix()
    except ValueError:
        return str(root)
    return "" if rel == "." else rel


class StatusHandler(MlvcHandler):
    """``GET /mlvc/status?path=``: the store, the branch, what changed, the kernel."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer whether the store exists, the branch and HEAD, whether the notebook or
        its data changed since HEAD, and the state of the notebook's kernel."""
        nb = self.notebook()
        kernel = await find_kernel(self.serverapp, nb.api_path)
        kernel_state = kernel.state if kernel else "none"
        try:
            st = await self.call(service.status, repo=nb.start, notebook=nb.file)
        except web.HTTPError as err:
            if isinstance(err.__cause__, NotARepositoryError):
                self.write_json({"initialized": False, "kernel": kernel_state})
                return
            raise
        root = await self.call(_store_root, nb.start)
        notebook: Mapping[str, Any] = st.get("notebook") or {}
        data = st.get("data", {})
        self.write_json(
            {
                "initialized": True,
                "root": _root_label(root, self.mlvc.root_dir),
                "branch": st["branch"],
                "head": st["head"],
                "detached": bool(st.get("detached")),
                "notebook_exists": bool(notebook.get("exists")),
                "notebook_changed": bool(notebook.get("changed")),
                "data": data,
                "data_changed": any(v != "unchanged" for v in data.values()),
                "skipped": st.get("skipped", {}),
                "kernel": kernel_state,
            }
        )


def _store_root(start: Path) -> Path:
    from ..store import find_root

    return find_root(start)


class InitHandler(MlvcHandler):
    """``POST /mlvc/init?path=``: create the store (next to the notebook, or at
    ``MlvcApp.store_root``)."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create the store if none is found from the notebook's folder upward: 201 when
        created, 200 when it existed."""
        nb = self.notebook()
        self.json_body(required=False)
        if not nb.start.is_dir():
            raise error(404, "the notebook's folder does not exist", "NotFound")
        try:
            root = await self.call(_store_root, nb.start)
            created = False
        except web.HTTPError as err:
            if not isinstance(err.__cause__, NotARepositoryError):
                raise
            store = await self.call(service.init, nb.start)
            root, created = store.root, True
        self.set_header("Location", self.api_url("status", path=nb.api_path))
        self.write_json(
            {
                "initialized": True,
                "created": created,
                "root": _root_label(root, self.mlvc.root_dir),
            },
            status=201 if created else 200,
        )


class LogHandler(MlvcHandler):
    """``GET /mlvc/log?path=&limit=&skip=&branch=&where=``: the commit graph of one
    notebook (``where``: only commits matching the query, see ``service.query``)."""

    async def live(self, nb: Notebook) -> str | None:
        """Watch the notebook's store for the panel asking (live sync); its stamp, the
        ETag of the answer (None when there is no store)."""
        root, stamp, exists = await self.call(_stamp, nb.start)
        watcher = self.watcher
        if watcher is not None:
            watcher.watch(root, _root_label(root, self.mlvc.root_dir), nb.api_path, stamp)
        return stamp if exists else None

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer one page of commits (newest first) with the branches and tags; ``304``
        when ``If-None-Match`` holds its ETag (nothing changed since)."""
        nb = self.notebook()
        cap = self.mlvc.max_log_limit
        limit = self.query_int("limit", cap, 1, cap)
        assert limit is not None
        skip = self.query_int("skip", 0, 0, 10**9) or 0
        branch = self.query_str("branch")
        if branch is not None:
            validate_ref_name(branch, "branch")
        where = self.query_str("where", MAX_QUERY_CHARS, allow_empty=True)
        stamp = await self.live(nb)
        if stamp is not None:
            etag = f'"{stamp}-{_query_tag(self.request.query)}"'
            self.set_header("ETag", etag)
            if etag in self.request.headers.get("If-None-Match", ""):
                self.set_status(304)
                return
        try:
            page = await self.call(_log_page, nb, branch, limit, skip, where)
        except web.HTTPError as err:
            if isinstance(err.__cause__, NotARepositoryError):
                self.write_json(
                    {
                        "initialized": False,
                        "commits": [],
                        "branches": [],
                        "tags": [],
                        "skip": skip,
                        "limit": limit,
                        "has_more": False,
                        "total": 0,
                    }
                )
                return
            raise
        self.write_json({"initialized": True, **page, "skip": skip, "limit": limit})


def _query_tag(query: str) -> str:
    """A short tag of a query string (one page's ETag differs from another's)."""
    return hashlib.sha1(query.encode(), usedforsecurity=False).hexdigest()[:12]


def _stamp(start: Path) -> tuple[Path, str, bool]:
    """The store's root and stamp, and whether it exists; with no store yet, the folder
    one would be created in by the first commit (so its creation is noticed too)."""
    from ..store import find_root
    from ..store.stamp import store_stamp

    try:
        root = find_root(start)
    except NotARepositoryError:
        return start, store_stamp(start), False
    return root, store_stamp(root), True


def _log_page(
    nb: Notebook, branch: str | None, limit: int, skip: int, where: str | None = None
) -> dict[str, Any]:
    """One page of the log, plus ``has_more`` and ``total`` when the page reaches the end."""
    commits = service.log(
        repo=nb.start, notebook=nb.file, branch=branch, limit=limit + 1, skip=skip, where=where
    )
    has_more = len(commits) > limit
    page: dict[str, Any] = {
        "commits": commits[:limit],
        "branches": service.branches(repo=nb.start, notebook=nb.file),
        "tags": service.tags(repo=nb.start, notebook=nb.file),
        "has_more": has_more,
    }
    if not has_more and (commits or skip == 0):
        page["total"] = skip + len(commits)
    return page


class CommitHandler(MlvcHandler):
    """``GET /mlvc/commits/{rev}?path=``: one commit's full record."""

    @web.authenticated
    @authorized
    async def get(self, rev: str) -> None:
        """Answer the commit record (``service.show``)."""
        nb = self.notebook()
        if not check_rev("rev", rev):
            raise error(400, "missing revision")
        self.write_json(await self.call(service.show, rev, repo=nb.start, notebook=nb.file))


# -- branches ------------------------------------------------------------------------------
class BranchesHandler(MlvcHandler):
    """``GET /mlvc/branches?path=`` lists, ``POST`` creates a branch."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer the notebook's branches and which is current."""
        nb = self.notebook()
        branches = await self.call(service.branches, repo=nb.start, notebook=nb.file)
        current = next((b["name"] for b in branches if b["current"]), None)
        self.write_json({"branches": branches, "current": current})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Create ``name`` at ``from`` (default HEAD); switch to it unless ``switch`` is
        false. 201 with the branch."""
        nb = self.notebook()
        body = self.json_body("name", "from", "switch")
        name = field_str(body, "name", required=True)
        assert name is not None
        validate_ref_name(name, "branch")
        start = check_rev("from", field_str(body, "from", max_chars=MAX_REV_CHARS))
        switch = field_bool(body, "switch", True)
        made = await self.call(
            service.branch, name, start, repo=nb.start, notebook=nb.file, switch=switch
        )
        self.set_header("Location", self.api_url("branches", name, path=nb.api_path))
        self.write_json(made, status=201)


class _NamedRefHandler(MlvcHandler):
    """A handler of one branch or tag by name."""

    async def write_named(
        self, listing: Callable[..., Sequence[Mapping[str, Any]]], kind: str, name: str
    ) -> None:
        """Answer the entry of ``listing`` (branches or tags) called ``name``, else 404."""
        nb = self.notebook()
        for entry in await self.call(listing, repo=nb.start, notebook=nb.file):
            if entry["name"] == name:
                self.write_json(entry)
                return
        raise error(404, f"no {kind} {name!r}", "RevisionNotFoundError")


class BranchHandler(_NamedRefHandler):
    """``GET``, ``PATCH`` (rename, switch) and ``DELETE /mlvc/branches/{name}?path=``."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """Answer one branch: ``name``, ``head``, ``current``."""
        validate_ref_name(name, "branch")
        await self.write_named(service.branches, "branch", name)

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        """Rename the branch to ``new_name`` and/or make it current (``switch: true``)."""
        nb = self.notebook()
        validate_ref_name(name, "branch")
        body = self.json_body("new_name", "switch")
        new_name = field_str(body, "new_name")
        switch = field_bool(body, "switch", False)
        if new_name is None and not switch:
            raise error(400, "give 'new_name' and/or 'switch': true")
        if new_name is not None:
            validate_ref_name(new_name, "branch")
            await self.call(service.rename_branch, name, new_name, repo=nb.start, notebook=nb.file)
            name = new_name
        if switch:
            await self.call(service.switch_branch, name, repo=nb.start, notebook=nb.file)
        await self.write_named(service.branches, "branch", name)

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        """Delete the branch (not the current one): 204."""
        nb = self.notebook()
        validate_ref_name(name, "branch")
        await self.call(service.delete_branch, name, repo=nb.start, notebook=nb.file)
        self.set_status(204)
        self.finish()


# -- tags ----------------------------------------------------------------------------------
class TagsHandler(MlvcHandler):
    """``GET /mlvc/tags?path=`` lists, ``POST`` tags a commit (or moves a tag)."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Answer the notebook's tags."""
        nb = self.notebook()
        self.write_json({"tags": await self.call(service.tags, repo=nb.start, notebook=nb.file)})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        """Tag ``rev`` (default HEAD) as ``name``; ``force`` moves an existing tag. 201."""
        nb = self.notebook()
        body = self.json_body("name", "rev", "force")
        name = field_str(body, "name", required=True)
        assert name is not None
        validate_ref_name(name, "tag")
        rev = check_rev("rev", field_str(body, "rev", max_chars=MAX_REV_CHARS))
        force = field_bool(body, "force", False)
        made = await self.call(service.tag, name, rev, repo=nb.start, notebook=nb.file, force=force)
        self.set_header("Location", self.api_url("tags", name, path=nb.api_path))
        self.write_json(made, status=201)


class TagHandler(_NamedRefHandler):
    """``GET``, ``PATCH`` (rename) and ``DELETE /mlvc/tags/{name}?path=``."""

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        """Answer one tag: ``name``, ``commit``."""
        validate_ref_name(name, "tag")
        await self.write_named(service.tags, "tag", name)

    @web.authenticated
    @authorized
    async def patch(self, name: str) -> None:
        """Rename the tag to ``new_name``."""
        nb = self.notebook()
        validate_ref_name(name, "tag")
        body = self.json_body("new_name")
        new_name = field_str(body, "new_name", required=True)
        assert new_name is not None
        validate_ref_name(new_name, "tag")
        self.write_json(
            await self.call(service.rename_tag, name, new_name, repo=nb.start, notebook=nb.file)
        )

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        """Delete the tag: 204."""
        nb = self.notebook()
        validate_ref_name(name, "tag")
        await self.call(service.tag, name, None, repo=nb.start, notebook=nb.file, delete=True)
        self.set_status(204)
        self.finish()
