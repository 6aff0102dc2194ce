"""What every tunelab benchmark shares: interleaved timing with medians, markdown tables, JSON records,
and the "met" verdict of a row against its target.

Timing rule: the cases being compared run in turn within each repetition (A B C, A B C, ...), so slow
drifts of the machine hit all of them alike; the figure reported is the median over repetitions. Single-
threaded cases may be timed by the CPU time of the process (`clock=time.process_time`), which other
processes on a shared machine do not inflate as they do the wall-clock time.
"""

import importlib
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone


def time_interleaved(cases, repeats=7, warmup=1, clock=time.perf_counter):
    """Median seconds per call of each zero-argument callable in `cases` (name -> callable), by `clock`."""
    for _ in range(warmup):
        for run in cases.values():
            run()
    samples = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            start = clock()
            run()
            samples[name].append(clock() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def installed(module_name):
    """True when `module_name` can be imported (without importing it)."""
    return importlib.util.find_spec(module_name) is not None


def met(value, target):
    """"yes" or "no": does `value` meet `target`, a pair (comparison, bound) with comparison "<=" or ">="?
    "" when there is no target or no value."""
    if target is None or value is None:
        return ""
    comparison, bound = target
    ok = value <= bound if comparison == "<=" else value >= bound
    return "yes" if ok else "no"


def peer(module_name):
    """Import a peer library if installed, else None (the benchmark then says it skipped it)."""
    try:
        with warnings.catch_warnings():  # e.g. pycma warns when matplotlib is absent
            warnings.simplefilter("ignore")
            return importlib.import_module(module_name)
    except ImportError:
        return None


def peer_note(label, module_name, compare, module):
    """Why a peer's rows are missing, or None when `module` (the imported peer) is there: not installed,
    or installed with --compare off."""
    if module is not None:
        return None
    if not compare and importlib.util.find_spec(module_name) is not None:
        return f"{label} is installed but --compare is off: its rows are skipped"
    return f"{label} is not installed: its rows are skipped"


def meets(value, comparison, bound):
    """"yes" or "no": whether `value` meets the target `value comparison bound` (comparison "<=" or ">=");
    "" when there is no value."""
    if value is None:
        return ""
    ok = value <= bound if comparison == "<=" else value >= bound
    return "yes" if ok else "no"


def _processor():
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _command():
    program = os.path.basename(sys.argv[0])
    program = "python -m tunelab.benchmarks" if program == "__main__.py" else program
    return " ".join([program] + sys.argv[1:])


def machine_info():
    import numba
    import numpy

    info = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": _processor(),
        "cpus": os.cpu_count(),
        "numpy": numpy.__version__,
        "numba": numba.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }
    for name in ("sklearn", "optuna", "skopt", "cma"):
        module = peer(name)
        if module is not None:
            info[name] = getattr(module, "__version__", "installed")
    return info


def markdown_table(rows, columns):
    """rows: list of dicts; columns: list of keys. Floats are shown with 4 significant digits."""
    def show(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(show(row.get(column)) for column in columns) + " |")
    return "\n".join(lines)


def save_json(path, name, results, notes=()):
    """Write {"benchmark", "command", "machine", "results", "notes"} to `path` and return the record."""
    record = {
        "benchmark": name,
        "command": _command(),
        "machine": machine_info(),
        "results": results,
        "notes": list(notes),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as handle:
        json.dump(record, handle, indent=2, default=float)
    return record
