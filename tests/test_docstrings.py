"""Every public estimator documents, in numpydoc sections, each constructor parameter (Parameters) and each
fitted attribute (Attributes, all present after fit), and every public method, inherited ones included, has
a docstring that help() shows."""

import inspect
import pydoc
import re
import warnings

import pytest

from tunelab.core import (
    ConvergenceWarning, LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor, StandardScaler,
    make_classification, make_regression,
)
from tunelab.optimizers import SGD
from tunelab.searchers import Real, SearchCV, SuccessiveHalving

ESTIMATORS = [LinearRegression, LogisticRegression, MLPClassifier, MLPRegressor, StandardScaler, SearchCV]


def section(cls, title):
    """The names documented in the numpydoc section `title` of cls's docstring ("a, b : type" gives a and b)."""
    lines = inspect.cleandoc(cls.__doc__ or "").splitlines()
    starts = [i for i in range(len(lines) - 1) if lines[i].strip() == title and set(lines[i + 1].strip()) == {"-"}]
    assert starts, f"{cls.__name__}'s docstring has no {title} section"
    body, names = lines[starts[0] + 2:], []
    for line, following in zip(body, body[1:] + [""]):
        if following.strip() and set(following.strip()) == {"-"}:  # the title of the next section
            break
        if line and not line[0].isspace():
            match = re.match(r"^(\w+(?:, \w+)*) :", line)
            assert match, f"{cls.__name__} {title}: {line!r} is not a numpydoc entry 'name : type'"
            names += match.group(1).split(", ")
    return names


def constructor_parameters(cls):
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_constructor_parameter_is_documented_in_order(cls):
    assert section(cls, "Parameters") == constructor_parameters(cls)


def public_methods(cls):
    for name in dir(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), property):
            continue
        if callable(getattr(cls, name)):
            yield name


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_public_method_has_a_docstring_in_help(cls):
    methods = list(public_methods(cls))
    assert {"fit", "get_params", "set_params"} <= set(methods)
    undocumented = [name for name in methods if not (inspect.getdoc(getattr(cls, name)) or "").strip()]
    assert undocumented == []
    text = pydoc.render_doc(cls, renderer=pydoc.plaintext)
    for name in methods:  # help() shows each method with the first line of its docstring
        first = inspect.getdoc(getattr(cls, name)).splitlines()[0].strip()
        assert first in text, name


def fitted(cls):
    Xc, yc = make_classification(n_samples=60, n_features=4, n_informative=2, random_state=0)
    Xr, yr = make_regression(n_samples=60, n_features=4, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a few epochs are enough to see the attributes
        if cls in (LogisticRegression, MLPClassifier):
            return [cls().set_params(max_epochs=5).fit(Xc, yc)]
        if cls in (LinearRegression, MLPRegressor):
            return [cls().set_params(max_epochs=5).fit(Xr, yr)]
        if cls is StandardScaler:
            return [cls().fit(Xr)]
        sgd = LogisticRegression(optimizer=SGD(lr=0.05, batch_size=16), max_epochs=4, random_state=0)
        return [SearchCV(LogisticRegression(), {"alpha": Real(1e-4, 1.0, log=True)}, n_trials=2, cv=2,
                         random_state=0).fit(Xc, yc),
                SearchCV(sgd, {"alpha": Real(1e-4, 1.0, log=True)}, n_trials=4, cv=2, resource="max_epochs",
                         pruner=SuccessiveHalving(1, 4), random_state=0).fit(Xc, yc)]


ONLY_WITH_RESOURCE = {"pruner_", "total_epochs_"}


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_every_documented_attribute_is_there_after_fit(cls):
    attributes = section(cls, "Attributes")
    assert attributes and all(name.endswith("_") for name in attributes)
    models = fitted(cls)
    for name in attributes:
        if cls is SearchCV and name in ONLY_WITH_RESOURCE:
            assert not hasattr(models[0], name) and hasattr(models[1], name)
        else:
            assert all(hasattr(model, name) for model in models), name


def test_the_section_parser_reads_numpydoc():
    class Documented:
        """One line.

        Parameters
        ----------
        a, b : int
            Two.
        c : float, default=1.0
            Continued
            over lines.

        Attributes
        ----------
        d_ : ndarray
        """

    assert section(Documented, "Parameters") == ["a", "b", "c"]
    assert section(Documented, "Attributes") == ["d_"]
    with pytest.raises(AssertionError, match="no Returns section"):
        section(Documented, "Returns")
