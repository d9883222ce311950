"""Fuzz the REST API with schemathesis against a live server, over openapi.yaml.

    python tests/server/fuzz.py [-n 30] [--seed 1] [--no-kernel]

Starts ``jupyter server`` (127.0.0.1, random port, token) on a temporary folder with two
notebooks, seeds a store through the API (commits, a branch, a tag, a kernel holding
variables for ``train.ipynb``), then runs ``st run`` with at most ``-n`` generated cases
per operation and phase. The checks: no 5xx, every status, content type, header and body
as the spec says, schema-invalid requests refused, credentials required, undeclared
methods answered 405. Exits with schemathesis' status (0: no failure).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live import LiveServer, run_cell

HERE = Path(__file__).resolve().parent
SPEC = HERE.parents[1] / "mlvc_server" / "openapi.yaml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "unsupported_method",
    ]
)


def write_notebook(path: Path, *sources: str) -> None:
    """A valid notebook with one code cell per source."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"c{i}") for i, s in enumerate(sources)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def seed(server: LiveServer, kernel: bool) -> None:
    """Commits on two branches, tags, and (optionally) a kernel with variables."""
    root = server.root
    write_notebook(root / "train.ipynb", "import numpy as np", "X = np.arange(10)")
    write_notebook(root / "sub" / "eval.ipynb", "score = 0.5")
    if kernel:
        client = server.start_kernel("train.ipynb")
        run_cell(client, "import numpy as np\nX = np.arange(10)\nlr = 0.1\nnames = ['a', 'b']")
        client.stop_channels()
    for nb in ("train.ipynb", "sub/eval.ipynb"):
        for i in range(3):
            body = {
                "message": f"run {i}",
                "params": {"lr": 0.1 / (i + 1)},
                "metrics": {"acc": i / 4},
            }
            status, made = server.request("POST", "mlvc/commits", body, {"path": nb})
            assert status == 201, made
        server.request("POST", "mlvc/branches", {"name": "sweep", "switch": False}, {"path": nb})
        server.request("POST", "mlvc/tags", {"name": "champion", "rev": "HEAD~1"}, {"path": nb})
    if kernel:  # a registered model (the commits hold the kernel's variables)
        body = {"rev": "HEAD", "variable": "X", "notebook": "train.ipynb"}
        status, made = server.request("POST", "mlvc/models/main/versions", body, {})
        assert status == 201, made


def main(argv: list[str] | None = None) -> int:
    """Run the fuzz session; return schemathesis' exit status."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--max-examples", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-kernel", action="store_true", help="seed no kernel session")
    ap.add_argument("--report", type=Path, help="write a JUnit report here")
    ap.add_argument("--keep", type=Path, help="work in this folder and keep it (server log)")
    ap.add_argument(
        "--only", metavar="REGEX", help="only the paths matching REGEX ('/mlvc/models')"
    )
    args = ap.parse_args(argv)
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or shutil.which("st")
    if st is None:
        print("schemathesis is not installed: pip install -e '.[test]'", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="mlvc-fuzz-") as tmp:
        work = args.keep or Path(tmp)
        root, home = work / "root", work / "home"
        root.mkdir(parents=True)
        home.mkdir(parents=True)
        with LiveServer(root, home, mlvc={"kernel_timeout": 5}) as server:
            seed(server, kernel=not args.no_kernel)
            cmd = [
                st,
                "--config-file",
                str(HERE / "schemathesis.toml"),
                "run",
                str(SPEC),
                "--url",
                server.url,
                "--header",
                f"Authorization: token {server.token}",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--workers",
                "1",
                "--generation-database",
                "none",
                "--request-timeout",
                "60",
                "--no-color",
            ]
            if args.only:
                cmd += ["--include-path-regex", args.only]
            if args.report:
                cmd += ["--report", "junit", "--report-junit-path", str(args.report)]
            code = subprocess.call(cmd, cwd=work)  # its caches stay out of the checkout
            if code:
                print(f"server log: {home / 'server.log'} (kept until this exits)")
                tail = (home / "server.log").read_text(errors="replace").splitlines()[-60:]
                print("\n".join(line for line in tail if "Traceback" in line or "Error" in line))
            return code


if __name__ == "__main__":
    sys.exit(main())
