"""The context of a study: what its values depend on besides the params (data, model, metric, folds).

Values of trials run on other data, another model or another metric do not compare, so a study records
its context (a dict of JSON values, `Study(..., context=...)`) and refuses to continue in another. This
module turns what a context holds into JSON values that are equal exactly when the things are:

- `fingerprint(array)`: shape, dtype and a SHA-256 of the bytes (FIPS 180-4), e.g.
  "(120, 4) float64 sha256:3f2a...", so a context names its data without storing it;
- `describe(value)`: a JSON value for a setting: numbers and strings as they are, arrays by fingerprint,
  classes, functions and estimators by their public import path (`import_path`), other objects by their
  repr without addresses.
"""

import hashlib
import math
import numbers
import re
import sys

import numpy as np

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _digest(chunks):
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:16]


def fingerprint(data):
    """'(n, d) dtype sha256:<16 hex digits>' of an array-like (None for None). Object arrays are hashed by
    the repr of their items; a sparse matrix by its CSR arrays; a table's column names count too."""
    if data is None:
        return None
    if hasattr(data, "tocsr") and hasattr(data, "nnz"):  # a scipy.sparse matrix, without importing scipy
        csr = data.tocsr()
        parts = [np.ascontiguousarray(a).tobytes() for a in (csr.data, csr.indices, csr.indptr)]
        return f"{csr.shape} sparse {csr.dtype} sha256:{_digest([str(csr.shape).encode(), *parts])}"
    columns = getattr(data, "columns", None)
    try:
        a = np.asarray(data)
    except (TypeError, ValueError):  # ragged sequences (e.g. token lists): an object array of the items
        a = np.empty(len(data), dtype=object)
        a[:] = list(data)
    if a.dtype == object:
        body = "\x1f".join(repr(v) for v in a.ravel().tolist()).encode()
    else:
        body = np.ascontiguousarray(a).tobytes()
    head = f"{a.shape} {a.dtype}"
    names = "" if columns is None else "\x1f".join(map(str, columns))
    return f"{head} sha256:{_digest([head.encode(), names.encode(), body])}"


def import_path(obj):
    """'package.Name' of a class or function: its public path, from the shortest package that exports it
    (so that moving it between private modules does not change it), else 'module.QualName'."""
    module = getattr(obj, "__module__", None) or "?"
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    parts = module.split(".")
    for k in range(1, len(parts)):
        package = sys.modules.get(".".join(parts[:k]))
        if package is not None and getattr(package, name, None) is obj:
            return f"{'.'.join(parts[:k])}.{name}"
    return f"{module}.{name}"


def describe(value):
    """A JSON value standing for `value` in a context (see the module docstring)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, np.ndarray):
        return fingerprint(value)
    if isinstance(value, (list, tuple)):
        return [describe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): describe(v) for k, v in value.items()}
    if isinstance(value, type) or callable(getattr(value, "get_params", None)):
        return import_path(value if isinstance(value, type) else type(value))
    if callable(value) and hasattr(value, "__qualname__"):
        return import_path(value)
    return _ADDRESS.sub("", repr(value))


def check_context(context):
    """`context` as stored: a dict of str -> finite JSON values (tuples become lists); TypeError or
    ValueError naming the entry that is not."""
    if not isinstance(context, dict):
        raise TypeError(f"`context` must be a dict of name -> JSON value; got {context!r:.100}.")

    def plain(value, where):
        if value is None or isinstance(value, (bool, str, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{where} must be finite; got {value!r}.")
            return value
        if isinstance(value, (list, tuple)):
            return [plain(v, where) for v in value]
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {k: plain(v, where) for k, v in value.items()}
        raise TypeError(f"{where} must be a JSON value (number, string, list, dict); got {value!r:.100}.")

    for key in context:
        if not isinstance(key, str):
            raise TypeError(f"`context` keys must be strings; got {key!r}.")
    return {key: plain(value, f"`context[{key!r}]`") for key, value in context.items()}


def differences(stored, given, prefix=""):
    """[(entry, stored value, given value)] for the keys of `given` whose value differs from the stored
    one, looking inside dicts (entry "estimator_params['alpha']"); keys not stored are not differences."""
    found = []
    for key, value in given.items():
        if key not in stored or stored[key] == value:
            continue
        entry = f"{prefix}[{key!r}]" if prefix else key
        if isinstance(value, dict) and isinstance(stored[key], dict):
            keys = [*stored[key], *(k for k in value if k not in stored[key])]
            found += differences({k: stored[key].get(k, "(absent)") for k in keys},
                                 {k: value.get(k, "(absent)") for k in keys}, entry)
        else:
            found.append((entry, stored[key], value))
    return found
