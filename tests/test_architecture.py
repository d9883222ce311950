"""The layers hold (docs/ARCHITECTURE.md): the import-linter contracts in pyproject.toml,
no module reaching into another's private names, and one owner per operation."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mlvc_server"


def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "labextension" in path.parts:
            continue
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        out[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def test_no_module_imports_another_modules_private_names() -> None:
    found = []
    for module, tree in _modules().items():
        is_package = (PACKAGE.parent / module.replace(".", "/") / "__init__.py").is_file()
        imported_modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                target = _target(module, is_package, node)
                if not target.startswith("mlvc_server") or target == module:
                    continue
                for alias in node.names:
                    if _private(alias.name):
                        found.append(f"{module}: from {target} import {alias.name}")
                    imported_modules[alias.asname or alias.name] = f"{target}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules
                and _private(node.attr)
            ):
                found.append(f"{module}: {node.value.id}.{node.attr}")
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_the_import_contracts_hold() -> None:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))
    if not Path(exe).exists():
        pytest.skip("import-linter is not installed")
    p = subprocess.run(
        [exe, "--config", str(PACKAGE.parent / "pyproject.toml")],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("commit", "mlvc_server.service.commits"),
        ("checkout", "mlvc_server.service.checkouts"),
        ("restore", "mlvc_server.service.variables"),
        ("diff", "mlvc_server.service.diffs"),
        ("status", "mlvc_server.service.state"),
        ("log", "mlvc_server.service.history"),
    ],
)
def test_each_operation_is_defined_once_in_the_service(name: str, owner: str) -> None:
    """Front ends translate; the service package is the only place that defines the
    operation (the kernel session's methods of the same name call it)."""
    definers = [
        module
        for module, tree in _modules().items()
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name
    ]
    assert definers == [owner]


def test_no_service_operation_shares_its_name_with_a_service_module() -> None:
    """The service loads its modules on first use: a module named like one of its
    functions (``service/lineage.py`` defining ``lineage``) would replace the function
    on ``service`` as soon as anything imports that module directly."""
    modules = {p.stem for p in (PACKAGE / "service").iterdir() if p.suffix == ".py" or p.is_dir()}
    code = (
        "import importlib, json, sys; from mlvc_server import service; "
        "[importlib.import_module('mlvc_server.service.' + m) for m in json.loads(sys.argv[1])]; "
        "print(json.dumps({n: type(getattr(service, n)).__name__ for n in service.__all__}))"
    )
    import json

    loadable = sorted(m for m in modules if not m.startswith("_") and m != "__pycache__")
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(loadable)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    ).stdout
    kinds = json.loads(out)
    clashes = {n for n, kind in kinds.items() if kind == "module"} - {"evaluation", "registry"}
    assert not clashes, f"service names that became modules: {sorted(clashes)}"
