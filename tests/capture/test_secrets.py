"""Likely secrets are recognised and kept out of readable metadata (docs/security.md,
"Secrets")."""

from __future__ import annotations

import json
import os
import stat
import types
from pathlib import Path

import pytest

from mlvc_server.capture import env, secrets, sources
from mlvc_server.capture.variables import SECRET_REASON, select_variables
from mlvc_server.store.repo import Store

GH = "ghp_" + "a1B2c3D4" * 5
AWS_ID = "AKIA" + "ABCDEFGHIJKLMNOP"

SECRET_NAMES = [
    "AWS_SECRET_ACCESS_KEY",
    "password",
    "db_password",
    "dbPassword",
    "api_token",
    "apiKey",
    "HF_TOKEN",
    "GITHUB_TOKEN",
    "token",
    "private_key",
    "client_secret",
    "auth",
    "session_cookie",
    "DATABASE_DSN",
    "azure_storage_connection_string",
]
PLAIN_NAMES = [
    "tokenizer",
    "tokens",
    "max_tokens",
    "n_tokens",
    "token_ids",
    "pad_token",
    "key_size",
    "author",
    "lr",
    "model",
    "keyboard",
    "monkey",
    "passes",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_secret_names_are_recognised(name: str) -> None:
    assert secrets.is_secret_name(name)


@pytest.mark.parametrize("name", PLAIN_NAMES)
def test_ordinary_ml_names_are_not_secrets(name: str) -> None:
    assert not secrets.is_secret_name(name)


def test_deny_and_allow_lists_are_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not secrets.is_secret_name("wandb_entity")
    monkeypatch.setenv(secrets.DENY_ENV, "wandb_entity ^corp_")
    assert secrets.is_secret_name("wandb_entity") and secrets.is_secret_name("corp_x")
    monkeypatch.setenv(secrets.ALLOW_ENV, "^api_token_count$")
    assert not secrets.is_secret_name("api_token_count")
    assert secrets.is_secret_name("api_token", allow=["^other$"])
    assert not secrets.is_secret_name("api_token", allow=["^api_token$"])


def test_token_formats_are_found_and_redacted() -> None:
    text = (
        f"gh={GH} aws={AWS_ID} url=https://ana:hunter2@db.example.org/x "
        "jwt=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk "
        "-----BEGIN RSA PRIVATE KEY----- password=hunter22"
    )
    kinds = secrets.find_tokens(text)
    assert {"a GitHub token", "an AWS access key id", "a password in a URL", "a JWT"} <= set(kinds)
    red = secrets.redact(text)
    for leaked in (GH, AWS_ID, "hunter2", "eyJhbGci", "PRIVATE KEY"):
        assert leaked not in red
    # commit ids, hashes and ordinary text are not tokens
    assert secrets.find_tokens("commit 0123456789abcdef0123456789abcdef01234567 acc=0.93") == []


def test_scan_names_variables_holding_likely_secrets_without_running_user_code() -> None:
    class Touchy:
        def __getattr__(self, name: str) -> object:
            raise AssertionError("user code ran")

        def __repr__(self) -> str:
            raise AssertionError("user code ran")

    environ_like = {"HOME": "/home/ana", "GITHUB_TOKEN": "x" * 30, "PATH": "/bin"}
    found = secrets.scan(
        {
            "AWS_SECRET_ACCESS_KEY": "abc",
            "env": environ_like,
            "real_env": os.environ,
            "note": f"use {GH}",
            "model": Touchy(),
            "lr": 0.1,
            "tokenizer": "bert",
        }
    )
    where = {w["where"]: w["reason"] for w in found}
    assert set(where) >= {"variable AWS_SECRET_ACCESS_KEY", "variable env", "variable note"}
    assert "GITHUB_TOKEN" in where["variable env"]
    assert "variable model" not in where and "variable lr" not in where
    assert "variable tokenizer" not in where
    meta = {"type": "builtins.dict", "value_preview": f"{{'GITHUB_TOKEN': '{GH}'}}"}
    assert secrets.scrub_meta(meta) == {"type": "builtins.dict", "value_preview": secrets.HIDDEN}


def test_select_variables_skips_secret_names_unless_allowed() -> None:
    ns = {"password": "hunter2", "api_token": "t", "lr": 0.1, "tokens": [1, 2]}
    selected, skipped = select_variables(ns)
    assert set(selected) == {"lr", "tokens"}
    assert skipped == {"password": SECRET_REASON, "api_token": SECRET_REASON}
    selected, skipped = select_variables(ns, allow_secrets=True)
    assert set(selected) == set(ns)
    selected, _ = select_variables(ns, ["password"])  # named explicitly: taken
    assert selected == {"password": "hunter2"}


def test_source_files_with_secrets_are_left_out_and_reported(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text('DB_HOST = "db"\nDB_PASSWORD = "hunter2-hunter2"\n')
    (tmp_path / "model.py").write_text("def f(x):\n    return 2 * x\n")
    mods = {}
    for name in ("settings", "model"):
        m = types.ModuleType(name)
        m.__file__ = str(tmp_path / f"{name}.py")
        mods[name] = m
    found: dict[str, list[object]] = {}
    got = sources.local_sources(tmp_path, mods, secrets_found=found)
    assert list(got) == ["model.py"]
    assert "settings.py" in found and "DB_PASSWORD" in json.dumps(found)
    assert list(sources.local_sources(tmp_path, mods, allow_secrets=True)) == [
        "model.py",
        "settings.py",
    ]


def test_env_json_values_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTORCH_CUDA_ALLOC_CONF", f"backend:native,{GH}")
    monkeypatch.setenv("GITHUB_TOKEN", GH)  # not allowlisted: never recorded
    info = env.environment({})
    assert GH not in json.dumps(info)
    assert info["env_vars"]["PYTORCH_CUDA_ALLOC_CONF"].startswith("backend:native,")


def test_notebook_outputs_with_tokens_are_found_and_redacted() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "print(key)",
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": [f"key is {GH}\n"]}
                ],
            },
            {
                "cell_type": "code",
                "source": "1",
                "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    raw = json.dumps(nb).encode()
    assert secrets.scan_notebook(raw) == [
        {"where": "output of cell 1", "reason": "it shows a GitHub token"}
    ]
    red, n = secrets.redact_notebook_outputs(raw)
    assert n == 1 and GH.encode() not in red and b"print(key)" in red


def test_a_new_store_is_private_to_its_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.umask(0o022)
    try:
        Store.init(tmp_path / "p").close()
        mode = stat.S_IMODE((tmp_path / "p" / ".mlvc").stat().st_mode)
        assert mode == 0o700
        assert stat.S_IMODE((tmp_path / "p" / ".mlvc" / "config").stat().st_mode) == 0o600
        monkeypatch.setenv("MLVC_SHARED_STORE", "1")
        Store.init(tmp_path / "q").close()
        assert stat.S_IMODE((tmp_path / "q" / ".mlvc").stat().st_mode) == 0o755
    finally:
        os.umask(old)
