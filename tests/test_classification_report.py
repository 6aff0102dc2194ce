"""classification_report: the text layout and the dict, hand-computed, against precision/recall/F1, and
against scikit-learn on random labels."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tunelab.core import UndefinedMetricWarning, classification_report
from tunelab.core.metrics import accuracy_score, f1_score, precision_score, recall_score

Y_TRUE, Y_PRED = [0, 1, 2, 2], [0, 1, 1, 2]


def test_text_report_by_hand():
    # per class: precision = tp / predicted, recall = tp / true, F1 = 2 tp / (true + predicted)
    expected = (
        "              precision    recall  f1-score   support\n"
        "\n"
        "           0       1.00      1.00      1.00         1\n"
        "           1       0.50      1.00      0.67         1\n"
        "           2       1.00      0.50      0.67         2\n"
        "\n"
        "    accuracy                           0.75         4\n"
        "   macro avg       0.83      0.83      0.78         4\n"
        "weighted avg       0.88      0.75      0.75         4\n"
    )
    assert classification_report(Y_TRUE, Y_PRED) == expected


def test_text_report_names_digits_and_a_label_subset():
    text = classification_report(Y_TRUE, Y_PRED, target_names=["ant", "bee", "a-long-class-name"], digits=3)
    lines = text.splitlines()
    assert lines[0] == " " * 17 + " " + "".join(f" {h:>9}" for h in ("precision", "recall", "f1-score", "support"))
    assert lines[4] == "a-long-class-name      1.000     0.500     0.667         2"
    # a subset of labels: the micro average is no longer the accuracy, so it is named
    subset = classification_report(Y_TRUE, Y_PRED, labels=[0, 1]).splitlines()
    assert [line.split()[0] for line in subset[2:4]] == ["0", "1"]
    assert subset[5] == "   micro avg       0.67      1.00      0.80         2"  # tp 2 of 3 predicted, 2 true


def test_dict_report_matches_the_metrics():
    report = classification_report(Y_TRUE, Y_PRED, output_dict=True)
    assert list(report) == ["0", "1", "2", "accuracy", "macro avg", "weighted avg"]
    assert report["accuracy"] == accuracy_score(Y_TRUE, Y_PRED) == 0.75
    assert report["2"] == {"precision": 1.0, "recall": 0.5, "f1-score": pytest.approx(2 / 3), "support": 2.0}
    for average in ("macro", "weighted"):
        row = report[f"{average} avg"]
        assert row["precision"] == pytest.approx(precision_score(Y_TRUE, Y_PRED, average=average))
        assert row["recall"] == pytest.approx(recall_score(Y_TRUE, Y_PRED, average=average))
        assert row["f1-score"] == pytest.approx(f1_score(Y_TRUE, Y_PRED, average=average))
        assert row["support"] == 4.0
    strings = classification_report(["no", "yes", "yes"], ["no", "yes", "no"], output_dict=True)
    assert strings["yes"]["recall"] == 0.5 and strings["no"]["precision"] == 0.5


def test_report_warns_for_undefined_values_and_takes_zero_division():
    y_true, y_pred = ["x", "y"], ["x", "x"]  # "y" is never predicted: its precision is 0/0
    with pytest.warns(UndefinedMetricWarning, match=r"Precision is ill-defined.*\['y'\]"):
        report = classification_report(y_true, y_pred, output_dict=True)
    assert report["y"]["precision"] == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = classification_report(y_true, y_pred, output_dict=True, zero_division=np.nan)
        text = classification_report(y_true, y_pred, zero_division=1.0)
    assert math.isnan(report["y"]["precision"]) and report["macro avg"]["precision"] == 0.5  # NaN left out
    assert text.splitlines()[3].split() == ["y", "1.00", "0.00", "0.00", "1"]
    with pytest.warns(UndefinedMetricWarning) as record:  # a listed label absent from the data
        classification_report(y_true, y_pred, labels=["x", "y", "z"])
    messages = {str(w.message).split(" is ")[0] + ": " + str(w.message).split("labels ")[-1][:5] for w in record}
    assert {"Precision: ['y',", "Recall: ['z']", "F-score: ['z']"} <= messages


def test_report_bad_input():
    with pytest.raises(ValueError, match="Number of classes, 3, does not match size of target_names, 2"):
        classification_report(Y_TRUE, Y_PRED, target_names=["a", "b"])
    with pytest.warns(UserWarning, match="labels size, 2, does not match size of target_names, 1"):
        text = classification_report(Y_TRUE, Y_PRED, labels=[0, 1], target_names=["a"])
    assert text.splitlines()[2].split()[0] == "a"
    with pytest.raises(ValueError, match="digits"):
        classification_report(Y_TRUE, Y_PRED, digits=-1)
    with pytest.raises(ValueError, match="zero_division"):
        classification_report(Y_TRUE, Y_PRED, zero_division=0.5)
    with pytest.raises(ValueError, match="same length"):
        classification_report(Y_TRUE, Y_PRED[:3])


def _tokens(text):
    """Whitespace-separated fields, numbers as floats (scikit-learn prints some integer supports as 3.0)."""
    out = []
    for token in text.split():
        try:
            out.append(float(token))
        except ValueError:
            out.append(token)
    return out


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), k=st.integers(1, 4), seed=st.integers(0, 2**32 - 1), digits=st.integers(0, 4),
       subset=st.booleans(), zero_division=st.sampled_from(["warn", 0.0, 1.0, np.nan]))
def test_report_agrees_with_sklearn(n, k, seed, digits, subset, zero_division):
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, n)
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, k + 1, n))
    labels = list(range(k + 1))[: max(1, k - 1)] + [k + 2] if subset else None
    kwargs = dict(labels=labels, digits=digits, zero_division=zero_division)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = classification_report(y_true, y_pred, **kwargs), skm.classification_report(y_true, y_pred, **kwargs)
        ours_dict = classification_report(y_true, y_pred, output_dict=True, **kwargs)
        theirs_dict = skm.classification_report(y_true, y_pred, output_dict=True, **kwargs)
    assert _tokens(ours) == _tokens(theirs) or (np.isnan(zero_division) and str(_tokens(ours)) == str(_tokens(theirs)))
    assert list(ours_dict) == list(theirs_dict)
    for key, row in theirs_dict.items():
        if key == "accuracy":
            assert ours_dict[key] == pytest.approx(row)
        else:
            assert list(ours_dict[key]) == list(row)
            np.testing.assert_allclose(list(ours_dict[key].values()), list(row.values()), equal_nan=True)
