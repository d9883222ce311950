"""Ref names: per-notebook namespaces, validation, and git's own rules."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlvc_server.errors import InvalidNameError
from mlvc_server.store.refs import (
    HEADS,
    branch_ref,
    notebook_from_key,
    notebook_key,
    split_ref,
    validate_name,
)


def git_accepts(ref: bytes) -> bool:
    return subprocess.run(["git", "check-ref-format", ref.decode()]).returncode == 0


@pytest.mark.parametrize("name", ["main", "lr-sweep", "exp/lr=0.3", "v1.2", "a_b+c@d"])
def test_good_branch_names(name: str) -> None:
    assert validate_name(name) == name
    assert git_accepts(branch_ref("train.ipynb", name))


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-x",
        ".hidden",
        "a..b",
        "a.lock",
        "x/",
        "/x",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "a@{1}",
        "HEAD",
        "deadbeef",
        "x.ipynb",
        "é",
        "a\x00",
        "a" * 201,
    ],
)
def test_bad_branch_names_are_refused_with_a_reason(name: str) -> None:
    with pytest.raises(InvalidNameError, match="invalid branch name"):
        validate_name(name)


@pytest.mark.parametrize(
    "nb",
    [
        "train.ipynb",
        "exp/Untitled 1.ipynb",
        ".hidden/x.ipynb",
        "a~b/c^d.ipynb",
        "x.lock/y.ipynb",
        "ünï cödé.ipynb",
        "a:b?.ipynb",
    ],
)
def test_any_notebook_path_makes_a_valid_ref(nb: str) -> None:
    ref = branch_ref(nb, "main")
    assert git_accepts(ref), ref
    assert notebook_from_key(notebook_key(nb)) == nb
    assert split_ref(ref, HEADS) == (nb, "main")


def test_no_notebook_namespace() -> None:
    assert split_ref(branch_ref(None, "exp/a"), HEADS) == (None, "exp/a")


def test_notebook_outside_project_is_refused() -> None:
    with pytest.raises(InvalidNameError):
        notebook_key("../x.ipynb")
    with pytest.raises(InvalidNameError):
        notebook_key("script.py")


@given(st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=30))
def test_notebook_key_round_trips(stem: str) -> None:
    stem = stem.replace("/", "_").strip()
    if stem in ("", ".", ".."):
        return
    nb = f"{stem}.ipynb"
    assert notebook_from_key(notebook_key(nb)) == nb
    assert split_ref(branch_ref(nb, "b1"), HEADS) == (nb, "b1")


def test_overlong_notebook_name_is_refused_clearly() -> None:
    with pytest.raises(InvalidNameError, match="too long"):
        notebook_key("é" * 100 + ".ipynb")  # 600 bytes once percent-encoded
