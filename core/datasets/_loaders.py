"""Three small real data sets shipped inside tunelab, read offline with numpy + gzip.

Each file `data/<name>.csv.gz` holds one header line (feature names, then "target") and one row per
sample: the features, then the class code 0..K-1. Sources, creators and licence (CC BY 4.0, UCI Machine
Learning Repository): data/DATA_LICENSE.txt.
"""

import gzip
from pathlib import Path

import numpy as np

from tunelab.core.validation import check_bool

DATA_DIR = Path(__file__).resolve().parent / "data"

_TARGET_NAMES = {
    "digits": [str(k) for k in range(10)],
    "breast_cancer": ["malignant", "benign"],
    "wine": ["class_0", "class_1", "class_2"],
}


def _load(name, return_names):
    """Read data/<name>.csv.gz; returns (X float64 (n, d), y int64 (n,)) [+ feature_names, target_names]."""
    check_bool(return_names, "return_names")
    path = DATA_DIR / f"{name}.csv.gz"
    with gzip.open(path, "rt", encoding="ascii") as f:
        header = f.readline().rstrip("\n").split(",")
        table = np.loadtxt(f, delimiter=",", dtype=np.float64, ndmin=2)  # (n, d + 1)
    X = np.ascontiguousarray(table[:, :-1])  # (n, d)
    y = table[:, -1].astype(np.int64)  # (n,)
    if not return_names:
        return X, y
    return X, y, header[:-1], list(_TARGET_NAMES[name])


def load_digits(return_names=False):
    """Handwritten digits: 1797 images of 8x8 pixel counts in 0..16, flattened row by row; 10 classes.

    Returns (X, y): X float64 (1797, 64), y int64 (1797,) with the digit 0..9.
    With `return_names=True`, also the feature names ("pixel_<row>_<col>") and the class names.
    Source: UCI "Optical Recognition of Handwritten Digits" (Alpaydin & Kaynak, 1998), test part.
    """
    return _load("digits", return_names)


def load_breast_cancer(return_names=False):
    """Breast Cancer Wisconsin (Diagnostic): 569 tumours, 30 real features, 2 classes.

    Returns (X, y): X float64 (569, 30), y int64 (569,) with 0 = malignant (212), 1 = benign (357).
    With `return_names=True`, also the feature names and the class names.
    Source: UCI, Wolberg, Street & Mangasarian (1995).
    """
    return _load("breast_cancer", return_names)


def load_wine(return_names=False):
    """Wine recognition: 178 wines, 13 chemical measurements, 3 cultivars (59, 71 and 48 wines).

    Returns (X, y): X float64 (178, 13), y int64 (178,) with the class 0..2.
    With `return_names=True`, also the feature names and the class names.
    Source: UCI, Forina et al. (PARVUS); donated by Aeberhard.
    """
    return _load("wine", return_names)
