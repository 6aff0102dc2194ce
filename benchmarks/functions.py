"""Standard test functions for searchers, with their known minima (Surjanovic and Bingham, "Virtual Library
of Simulation Experiments", Simon Fraser University; Jamil and Yang, 2013).

Each `TestFunction` evaluates one point given as a 1-D array inside `bounds`, and knows `f_min`, so a
benchmark reports simple regret = best value found - f_min. A `ConditionalFunction` is defined on a tree
(a root choice opening its own dimensions), as a conditional space and as a define-by-run objective.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TestFunction:
    name: str
    dim: int
    bounds: tuple  # ((low, high), ...) one pair per dimension
    f_min: float
    x_min: tuple
    f: object

    def __call__(self, x):
        return float(self.f(np.asarray(x, dtype=np.float64)))

    def space(self):
        """The function's domain as a tunelab search space with dimensions x0, x1, ..."""
        from tunelab.searchers import Real, Space

        return Space({f"x{i}": Real(float(lo), float(hi)) for i, (lo, hi) in enumerate(self.bounds)})

    def objective(self):
        """The function as a tunelab objective over params {"x0": ..., "x1": ...}."""
        return lambda params: self([params[f"x{i}"] for i in range(self.dim)])


def _branin(x):
    a, b, c, r, s, t = 1.0, 5.1 / (4 * np.pi**2), 5 / np.pi, 6.0, 10.0, 1 / (8 * np.pi)
    return a * (x[1] - b * x[0] ** 2 + c * x[0] - r) ** 2 + s * (1 - t) * np.cos(x[0]) + s


_H3_A = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
_H3_P = 1e-4 * np.array([[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]])
_H6_A = np.array([[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14],
                  [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]], dtype=float)
_H6_P = 1e-4 * np.array([[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991],
                         [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]])
_H_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def _hartmann(A, P):
    return lambda x: -np.sum(_H_ALPHA * np.exp(-np.sum(A * (x - P) ** 2, axis=1)))


def _ackley(x):
    d = x.shape[0]
    return (-20 * np.exp(-0.2 * np.sqrt(np.sum(x**2) / d)) - np.exp(np.sum(np.cos(2 * np.pi * x)) / d)
            + 20 + np.e)


def _rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def _levy(x):
    w = 1 + (x - 1) / 4
    middle = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    return np.sin(np.pi * w[0]) ** 2 + middle + (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)


def _rastrigin(x):
    return 10 * x.shape[0] + np.sum(x**2 - 10 * np.cos(2 * np.pi * x))


def _styblinski_tang(x):
    return 0.5 * np.sum(x**4 - 16 * x**2 + 5 * x)


def branin():
    return TestFunction("branin", 2, ((-5.0, 10.0), (0.0, 15.0)), 0.397887357729739, (np.pi, 2.275), _branin)


def hartmann3():
    return TestFunction("hartmann3", 3, ((0.0, 1.0),) * 3, -3.86278214782076,
                        (0.114614, 0.555649, 0.852547), _hartmann(_H3_A, _H3_P))


def hartmann6():
    return TestFunction("hartmann6", 6, ((0.0, 1.0),) * 6, -3.32236801141551,
                        (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573), _hartmann(_H6_A, _H6_P))


def ackley(dim=5):
    return TestFunction(f"ackley{dim}", dim, ((-32.768, 32.768),) * dim, 0.0, (0.0,) * dim, _ackley)


def rosenbrock(dim=5):
    return TestFunction(f"rosenbrock{dim}", dim, ((-5.0, 10.0),) * dim, 0.0, (1.0,) * dim, _rosenbrock)


def levy(dim=10):
    return TestFunction(f"levy{dim}", dim, ((-10.0, 10.0),) * dim, 0.0, (1.0,) * dim, _levy)


def rastrigin(dim=5):
    return TestFunction(f"rastrigin{dim}", dim, ((-5.12, 5.12),) * dim, 0.0, (0.0,) * dim, _rastrigin)


def styblinski_tang(dim=5):
    return TestFunction(f"styblinski_tang{dim}", dim, ((-5.0, 5.0),) * dim, -39.16616570377142 * dim,
                        (-2.903534027771178,) * dim, _styblinski_tang)


class ConditionalFunction:
    """A tree-structured test function: f(params) = offset_b + f_b(the dimensions of branch b), b = params["branch"].

    `tree3()`: a root choice among three branches, each with its own dimensions and its own minimum,

        "branin"     a_x1 in [-5, 10], a_x2 in [0, 15]        Branin - 0.397887 + 0.3      min 0.3 at 3 points
        "hartmann"   b_x1, b_x2, b_x3 in [0, 1]               Hartmann3 + 3.862782         min 0 (the optimum)
        "quadratic"  c_u in [-5, 5], c_lr in [1e-4, 1] (log),  0.2 + ((c_u - 1.5)/5)^2 + ((log10 c_lr + 2.5)/2)^2
                     c_m in 1..32, c_k in 0..10 (integers)     + ((c_m - 20)/16)^2 + |c_k - 3|/10      min 0.2

    so f_min = 0 in the Hartmann branch, and the other branches hold local minima 0.2 and 0.3 above it: a
    searcher must find the right branch and then optimise inside it. (Hartmann3 and Branin: Surjanovic and
    Bingham's library.) `suggest(trial)` is the same function written define-by-run, for any trial with
    Optuna's `suggest_float`, `suggest_int`, `suggest_categorical` (tunelab's Trial or Optuna's).
    """

    name, f_min = "tree3", 0.0
    x_min = {"branch": "hartmann", "b_x1": 0.114614, "b_x2": 0.555649, "b_x3": 0.852547}
    _H3 = staticmethod(_hartmann(_H3_A, _H3_P))
    _BRANIN_MIN = 0.397887357729739

    def __call__(self, params):
        branch = params["branch"]
        if branch == "branin":
            return float(_branin(np.array([params["a_x1"], params["a_x2"]])) - self._BRANIN_MIN + 0.3)
        if branch == "hartmann":
            return float(self._H3(np.array([params["b_x1"], params["b_x2"], params["b_x3"]])) + 3.86278214782076)
        if branch == "quadratic":
            return float(0.2 + ((params["c_u"] - 1.5) / 5) ** 2 + ((np.log10(params["c_lr"]) + 2.5) / 2) ** 2
                         + ((params["c_m"] - 20) / 16) ** 2 + abs(params["c_k"] - 3) / 10)
        raise ValueError(f"`branch` must be 'branin', 'hartmann' or 'quadratic'; got {branch!r}.")

    def space(self):
        """The tree as a tunelab conditional space."""
        from tunelab.searchers import Categorical, Integer, Real, Space

        return Space({"branch": Categorical({
            "branin": {"a_x1": Real(-5.0, 10.0), "a_x2": Real(0.0, 15.0)},
            "hartmann": {f"b_x{i}": Real(0.0, 1.0) for i in (1, 2, 3)},
            "quadratic": {"c_u": Real(-5.0, 5.0), "c_lr": Real(1e-4, 1.0, log=True), "c_m": Integer(1, 32),
                          "c_k": Integer(0, 10)},
        })})

    def objective(self):
        """The function as a tunelab objective over the params of `space()`."""
        return lambda params: self(dict(params.items()))

    def suggest(self, trial):
        """The function as a define-by-run objective: the params are asked for as the branch needs them."""
        branch = trial.suggest_categorical("branch", ["branin", "hartmann", "quadratic"])
        if branch == "branin":
            params = {"a_x1": trial.suggest_float("a_x1", -5.0, 10.0), "a_x2": trial.suggest_float("a_x2", 0.0, 15.0)}
        elif branch == "hartmann":
            params = {f"b_x{i}": trial.suggest_float(f"b_x{i}", 0.0, 1.0) for i in (1, 2, 3)}
        else:
            params = {"c_u": trial.suggest_float("c_u", -5.0, 5.0), "c_lr": trial.suggest_float("c_lr", 1e-4, 1.0, log=True),
                      "c_m": trial.suggest_int("c_m", 1, 32), "c_k": trial.suggest_int("c_k", 0, 10)}
        return self(dict(params, branch=branch))


def tree3():
    return ConditionalFunction()


CONDITIONAL_FUNCTIONS = {"tree3": tree3}


def get_conditional_function(name):
    """A tree-structured test function by name ("tree3")."""
    if name not in CONDITIONAL_FUNCTIONS:
        raise ValueError(f"`name` must be one of {', '.join(CONDITIONAL_FUNCTIONS)}; got {name!r}.")
    return CONDITIONAL_FUNCTIONS[name]()


def get_function(name):
    """A test function by name, e.g. "branin", "hartmann6", "ackley5", "levy10", "rosenbrock4", or the
    tree-structured "tree3" (a `ConditionalFunction`)."""
    if name in CONDITIONAL_FUNCTIONS:
        return CONDITIONAL_FUNCTIONS[name]()
    fixed = {"branin": branin, "hartmann3": hartmann3, "hartmann6": hartmann6}
    if name in fixed:
        return fixed[name]()
    families = {"ackley": ackley, "rosenbrock": rosenbrock, "levy": levy, "rastrigin": rastrigin,
                "styblinski_tang": styblinski_tang}
    stem = name.rstrip("0123456789")
    digits = name[len(stem):]
    if stem in families and digits:
        return families[stem](int(digits))
    known = ", ".join(list(fixed) + [f"{f}<dim>" for f in families] + list(CONDITIONAL_FUNCTIONS))
    raise ValueError(f"`name` must be one of {known}; got {name!r}.")


# ---- several objectives ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class MultiObjectiveFunction:
    """Objectives to minimise over [0, 1]^dim, with the reference point of the hypervolume reported for
    them; `__call__` gives the loss vector (n_objectives,) of one point."""
    name: str
    dim: int
    n_objectives: int
    reference: tuple
    f: object

    def __call__(self, x):
        return tuple(float(v) for v in self.f(np.asarray(x, dtype=np.float64)))

    def space(self):
        from tunelab.searchers import Real, Space

        return Space({f"x{i}": Real(0.0, 1.0) for i in range(self.dim)})

    def objective(self):
        return lambda params: self([params[f"x{i}"] for i in range(self.dim)])


def _zdt(x, h):
    """ZDT (Zitzler, Deb & Thiele 2000): f1 = x1, g = 1 + 9 mean(x2..xd), f2 = g h(f1 / g)."""
    g = 1.0 + 9.0 * x[1:].mean()
    return x[0], g * h(x[0] / g)


def _zdt1(x):
    return _zdt(x, lambda r: 1.0 - np.sqrt(r))


def _zdt2(x):
    return _zdt(x, lambda r: 1.0 - r ** 2)


def _dtlz2(x, m=3):
    """DTLZ2 (Deb, Thiele, Laumanns & Zitzler 2002): g = sum_{i >= m} (x_i - 1/2)^2, f on the sphere of
    radius 1 + g: f_1 = (1+g) prod cos(x_i pi/2), ..., f_m = (1+g) sin(x_1 pi/2)."""
    g = float(np.sum((x[m - 1:] - 0.5) ** 2))
    angles = x[:m - 1] * np.pi / 2
    f = []
    for k in range(m):
        value = (1.0 + g) * np.prod(np.cos(angles[:m - 1 - k]))
        if k > 0:
            value *= np.sin(angles[m - 1 - k])
        f.append(value)
    return f


MULTIOBJECTIVE = {
    "zdt1": MultiObjectiveFunction("zdt1", 5, 2, (1.1, 5.0), _zdt1),
    "zdt2": MultiObjectiveFunction("zdt2", 5, 2, (1.1, 5.0), _zdt2),
    "dtlz2": MultiObjectiveFunction("dtlz2", 7, 3, (2.0, 2.0, 2.0), _dtlz2),
}


def get_multiobjective_function(name):
    """ZDT1, ZDT2 (d=5) or DTLZ2 (d=7, three objectives) by name."""
    if name not in MULTIOBJECTIVE:
        raise ValueError(f"`name` must be one of {', '.join(MULTIOBJECTIVE)}; got {name!r}.")
    return MULTIOBJECTIVE[name]
