"""In a real kernel: lineage of readers that bypass ``open`` (pyarrow, pandas parquet and
feather, polars, h5py, safetensors) and of those through it (numpy, torch); their content
captured with ``%mlvc track --content``; ``%mlvc data diff`` and ``%mlvc data checkout``."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from typing import Any

import pytest
from harness import Kernel

import mlvc_server as mlvc

#: reader -> (file it reads, code that writes it, code that reads it); run only when its
#: library is installed.
READERS: dict[str, tuple[str, str, str, str]] = {
    "pd.read_parquet": (
        "pyarrow",
        "d/a.parquet",
        "pd.DataFrame({'a': [1, 2]}).to_parquet('d/a.parquet')",
        "pd.read_parquet('d/a.parquet')",
    ),
    "pyarrow.parquet.read_table": (
        "pyarrow",
        "d/b.parquet",
        "pd.DataFrame({'a': [1]}).to_parquet('d/b.parquet')",
        "__import__('pyarrow.parquet').parquet.read_table('d/b.parquet')",
    ),
    "pd.read_feather": (
        "pyarrow",
        "d/c.feather",
        "pd.DataFrame({'a': [1]}).to_feather('d/c.feather')",
        "pd.read_feather('d/c.feather')",
    ),
    "pyarrow.csv.read_csv": (
        "pyarrow",
        "d/e.csv",
        "open('d/e.csv', 'w').write('a\\n1\\n')",
        "__import__('pyarrow.csv').csv.read_csv('d/e.csv')",
    ),
    "polars.read_parquet": (
        "polars",
        "d/f.parquet",
        "pd.DataFrame({'a': [1]}).to_parquet('d/f.parquet')",
        "__import__('polars').read_parquet('d/f.parquet')",
    ),
    "polars.scan_csv": (
        "polars",
        "d/g.csv",
        "open('d/g.csv', 'w').write('a\\n1\\n')",
        "__import__('polars').scan_csv('d/g.csv').collect()",
    ),
    "h5py.File": (
        "h5py",
        "d/h.h5",
        "import h5py\nwith h5py.File('d/h.h5', 'w') as f: f['x'] = [1, 2]",
        "import h5py\nwith h5py.File('d/h.h5', 'r') as f: f['x'][:]",
    ),
    "safetensors load_file": (
        "safetensors",
        "d/w.safetensors",
        "from safetensors.numpy import save_file; save_file({'w': np.zeros(2)}, 'd/w.safetensors')",
        "__import__('safetensors.numpy').numpy.load_file('d/w.safetensors')",
    ),
    "np.load": ("numpy", "d/n.npy", "np.save('d/n.npy', np.arange(3))", "np.load('d/n.npy')"),
    "np.memmap": (
        "numpy",
        "d/m.bin",
        "np.arange(4, dtype='u1').tofile('d/m.bin')",
        "np.memmap('d/m.bin', mode='r', dtype='u1')",
    ),
    "torch.load": (
        "torch",
        "d/t.pt",
        "import torch; torch.save({'w': torch.zeros(2)}, 'd/t.pt')",
        "__import__('torch').load('d/t.pt')",
    ),
    "polars glob": (
        "polars",
        "d/parts/p1.parquet",
        "os.makedirs('d/parts'); pd.DataFrame({'a': [1]}).to_parquet('d/parts/p1.parquet')",
        "__import__('polars').read_parquet('d/parts/p*.parquet')",
    ),
    "xgboost Booster.load_model": (
        "xgboost",
        "d/x.ubj",
        "import xgboost as xgb\n"
        "xgb.train({}, xgb.DMatrix(np.ones((4, 1)), label=[0, 1, 0, 1]), 1).save_model('d/x.ubj')",
        "__import__('xgboost').Booster().load_model('d/x.ubj')",
    ),
    "xgboost Booster(model_file=)": (
        "xgboost",
        "d/x2.json",
        "xgb.train({}, xgb.DMatrix(np.ones((4, 1)), label=[0, 1, 0, 1]), 1)"
        ".save_model('d/x2.json')",
        "__import__('xgboost').Booster(model_file='d/x2.json')",
    ),
    "xgboost XGBClassifier.load_model": (
        "xgboost",
        "d/x3.json",
        "xgb.XGBClassifier(n_estimators=1).fit(np.ones((4, 1)), [0, 1, 0, 1])"
        ".save_model('d/x3.json')",
        "__import__('xgboost').XGBClassifier().load_model('d/x3.json')",
    ),
    "xgboost DMatrix URI": (
        "xgboost",
        "d/x.csv",
        "open('d/x.csv', 'w').write('1,0.5\\n0,0.25\\n')",
        "__import__('xgboost').DMatrix('d/x.csv?format=csv&label_column=0')",
    ),
    "lightgbm Dataset": (
        "lightgbm",
        "d/l.bin",
        "import lightgbm as lgb\n"
        "lgb.Dataset(np.arange(20.0).reshape(10, 2), label=[0, 1] * 5).save_binary('d/l.bin')",
        "__import__('lightgbm').Dataset('d/l.bin').construct()",
    ),
    "torch.jit.load": (
        "torch",
        "d/j.pt",
        "import torch; torch.jit.script(torch.nn.Linear(2, 2)).save('d/j.pt')",
        "__import__('torch').jit.load('d/j.pt')",
    ),
    "onnxruntime.InferenceSession": (
        "onnxruntime",
        "d/m.onnx",
        "import onnx.helper as oh\n"
        "g = oh.make_graph([oh.make_node('Identity', ['x'], ['y'])], 'g',"
        " [oh.make_tensor_value_info('x', 1, [1])], [oh.make_tensor_value_info('y', 1, [1])])\n"
        "import onnx; onnx.save(oh.make_model(g, opset_imports=[oh.make_opsetid('', 17)],"
        " ir_version=8), 'd/m.onnx')",
        "__import__('onnxruntime').InferenceSession('d/m.onnx')",
    ),
}
INSTALLED = {
    name: spec for name, spec in READERS.items() if importlib.util.find_spec(spec[0]) is not None
}


@pytest.fixture(scope="module")
def k(kernel_factory: Any) -> Kernel:
    k = kernel_factory()
    k.run("%load_ext mlvc_server")
    k.run("import os, numpy as np, pandas as pd")
    # written by another process: files the kernel's own code writes are not inputs
    (k.project / "d").mkdir()
    code = "import os, numpy as np, pandas as pd\n" + "\n".join(
        write for _lib, _path, write, _read in INSTALLED.values()
    )
    subprocess.run([sys.executable, "-c", code], cwd=k.project, check=True)
    return k


def _data(k: Kernel, rev: str = "HEAD") -> dict[str, Any]:
    rec = mlvc.show(rev, repo=k.project, notebook=k.project / "train.ipynb")
    data: dict[str, Any] = rec["data"]
    return data


@pytest.mark.parametrize("reader", sorted(INSTALLED))
def test_each_reader_is_in_the_lineage(k: Kernel, reader: str) -> None:
    _lib, path, _write, read = INSTALLED[reader]
    k.run(read if "\n" in read else f"_ = {read}")
    k.run(f"%mlvc commit -m {reader.replace(' ', '_')!r} --no-vars")
    assert path in _data(k), f"{reader} read {path}, not recorded"


def test_content_of_read_files_is_captured_and_checked_out(k: Kernel) -> None:
    out = k.run("%mlvc track --content 'd/**'").stdout
    assert "with its content" in out
    k.run("df = pd.DataFrame({'id': range(100), 'v': range(100)}); df.to_parquet('d/z.parquet')")
    k.run("_ = pd.read_parquet('d/z.parquet')")
    k.run("%mlvc commit -m z1 --no-vars")
    entry = _data(k)["d/z.parquet"]
    assert entry["content"]
    k.run("df.loc[3, 'v'] = -1; df.iloc[:90].to_parquet('d/z.parquet')")
    k.run("_ = pd.read_parquet('d/z.parquet')")
    k.run("%mlvc commit -m z2 --no-vars")
    text = k.run("%mlvc data diff HEAD~1 HEAD --key id").stdout
    assert "d/z.parquet" in text and "rows 100 -> 90: +0 -10 ~1 (by id)" in text
    out = k.run("%mlvc data checkout HEAD~1 d/z.parquet").stdout
    assert "Wrote d/z.parquet" in out and "kept as" in out
    assert "To put them back as they were: %mlvc data undo " in out
    assert k.value("len(pd.read_parquet('d/z.parquet'))") == 100
    out = k.run("%mlvc data undo").stdout  # the file as it was before the checkout
    assert "Put back as before the checkout of" in out and "d/z.parquet" in out
    assert k.value("len(pd.read_parquet('d/z.parquet'))") == 90
    k.run("%mlvc untrack --content 'd/**'")


def test_data_without_an_action_is_a_usage_error(k: Kernel) -> None:
    reply = k.run("%mlvc data", ok=False)
    assert reply.status == "error" and "checkout REV" in reply.text + str(reply.error)


def test_checkout_with_data_brings_back_variables_and_the_files_read(k: Kernel) -> None:
    k.run("%mlvc track --content 'd/**'")

    def write(rows: int) -> None:  # by another process: an input, not an output
        code = "import pandas as pd; " + (
            f"pd.DataFrame({{'a': range({rows})}}).to_parquet('d/w.parquet')"
        )
        subprocess.run([sys.executable, "-c", code], cwd=k.project, check=True)

    write(50)
    k.run("w_rows = len(pd.read_parquet('d/w.parquet'))")
    k.run("%mlvc commit -m w1")
    write(10)
    k.run("w_rows = len(pd.read_parquet('d/w.parquet'))")
    k.run("%mlvc commit -m w2")
    out = k.run("%mlvc checkout HEAD~1 --vars-only --data d/w.parquet").stdout
    assert "Wrote d/w.parquet (current file kept as" in out
    assert k.value("w_rows") == 50
    assert k.value("len(pd.read_parquet('d/w.parquet'))") == 50
    # without --data, the data files stay as they are
    write(7)
    k.run("%mlvc checkout HEAD --vars-only")
    assert k.value("len(pd.read_parquet('d/w.parquet'))") == 7
    k.run("%mlvc untrack --content 'd/**'")
