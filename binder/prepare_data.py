"""The data pipeline of the lineage demo (03-data-lineage.ipynb).

Writes scikit-learn's wine data set as a CSV file, as a separate process would:

    python prepare_data.py                # release 1: all 178 samples -> data/wine.csv
    python prepare_data.py --release 2    # release 2: every tenth sample removed
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sklearn.datasets import load_wine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", type=int, choices=[1, 2], default=1)
    parser.add_argument("--out", default="data/wine.csv", help="the CSV file to write")
    args = parser.parse_args()
    frame = load_wine(as_frame=True).frame
    if args.release == 2:
        frame = frame.drop(index=frame.index[::10])  # the faulty batch
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    print(f"release {args.release}: {len(frame)} samples written to {out}")


if __name__ == "__main__":
    main()
