"""get_params / set_params read from the constructor's signature (scikit-learn's estimator contract).

Lives in the lowest layer so that optimizers, models and searchers share one implementation.
"""

import copy
import inspect


class ParamsMixin:
    """Hyperparameters are exactly the constructor's arguments, stored under the same names.

    `get_params(deep=True)` also lists nested ones as `outer__inner` (e.g. `optimizer__lr`),
    and `set_params(optimizer__lr=0.1)` sets them, as in scikit-learn.
    """

    @classmethod
    def _param_names(cls):
        signature = inspect.signature(cls.__init__)
        return sorted(
            name for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep=True):
        """The constructor's arguments as {name: value}; with deep, also those of nested objects as
        `outer__inner` (e.g. `optimizer__lr`)."""
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            params[name] = value
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for inner, inner_value in value.get_params(deep=True).items():
                    params[f"{name}__{inner}"] = inner_value
        return params

    def set_params(self, **params):
        """Set constructor arguments by name, nested ones as `outer__inner` (the nested object is cloned
        first, never changed in place); returns self."""
        valid = self._param_names()
        nested = {}
        for key, value in params.items():
            name, _, inner = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {', '.join(valid)}."
                )
            if inner:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner_params in nested.items():
            inner_object = getattr(self, name)
            if not hasattr(inner_object, "set_params"):
                raise ValueError(
                    f"Cannot set nested parameters {sorted(inner_params)} on `{name}`={inner_object!r}: "
                    "it has no set_params."
                )
            setattr(self, name, clone(inner_object))  # never mutate an object the caller may share
            getattr(self, name).set_params(**inner_params)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params(deep=False).items())
        return f"{type(self).__name__}({args})"


def clone(estimator):
    """A new unfitted object with the same hyperparameters (nested objects cloned too)."""
    if isinstance(estimator, (list, tuple)):
        return type(estimator)(clone(e) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        return copy.deepcopy(estimator)
    params = estimator.get_params(deep=False)
    return type(estimator)(**{k: clone(v) for k, v in params.items()})
