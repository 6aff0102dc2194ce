"""The CSV reader of `tunelab tune`: what it loads, what it refuses and how it says so; random CSV text either
loads right or gives a DataFileError naming the file (and the line), never another exception."""

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tunelab.benchmarks.cli.data import DataFileError, read_csv
from tunelab.benchmarks.cli.tune import run_tune


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def test_a_plain_file_loads(tmp_path):
    path = write(tmp_path, "a, b ,y\n1,2.5,x\n\n-3e2, .5 ,z\n")
    table = read_csv(path, "y")
    np.testing.assert_array_equal(table.X, [[1.0, 2.5], [-300.0, 0.5]])
    assert table.y.tolist() == ["x", "z"] and table.features == ["a", "b"] and table.lines == [2, 4]
    assert table.X.dtype == np.float64 and table.y.dtype.kind == "U"


def test_quoted_cells_and_spaces_after_commas_load(tmp_path):
    table = read_csv(write(tmp_path, 'a, "b"\n"1.5", "x, y"\n  2 , "say ""hi"""\n'), "b")
    np.testing.assert_array_equal(table.X, [[1.5], [2.0]])
    assert table.y.tolist() == ["x, y", 'say "hi"'] and table.y.dtype.kind == "U"


def test_a_byte_order_mark_is_dropped(tmp_path):
    path = write(tmp_path, b"\xef\xbb\xbfa,y\r\n1,0\r\n2,1\r\n")
    table = read_csv(path, "a")  # the first column keeps its name
    assert table.features == ["y"] and table.y.tolist() == [1.0, 2.0]


def test_a_directory_says_it_is_a_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match=r"is a directory; give the path of a CSV file"):
        read_csv(str(tmp_path), "y")


def test_a_file_that_is_not_utf8_names_the_file_and_the_byte(tmp_path):
    path = write(tmp_path, "a,y\n1,café\n".encode("latin-1"))
    with pytest.raises(DataFileError, match=r"data file '.*data.csv' is not UTF-8 text: byte 0xe9 on line 2"):
        read_csv(path, "y")


@pytest.mark.parametrize("content, message", [
    ("", r"is empty"),
    ("\n\n", r"is empty"),
    ("a,y\n", r"has a header but no rows"),
    ("a,,y\n1,2,3\n", r"column 2 of the header of '.*' has no name"),
    ("a,y,a\n1,2,3\n", r"column 'a' appears twice in the header of '.*' \(columns 1 and 3\)"),
    ("a,y\n1,2\n3\n", r"line 3 of '.*' has 1 fields; the header has 2"),
    ("a,y\n1,0\nNA,1\n", r"feature 'a' has a missing value \('NA'\) on line 3 of '.*'; tunelab does not impute"),
    ("a,y\n1,0\n ,1\n", r"feature 'a' has a missing value \(''\) on line 3"),
    ("a,y\n1,0\nnan,1\n", r"feature 'a' has a missing value \('nan'\) on line 3"),
    ("a,y\nred,1\n", r"feature 'a' is not numeric: line 2 of '.*' has 'red'"),
    ("a,y\n1_000,1\n", r"feature 'a' is not numeric: line 2 of '.*' has '1_000'"),
    ("a,y\n1e999,1\n", r"feature 'a' is not finite: line 2 of '.*' has '1e999'"),
    ("a,y\n-inf,1\n", r"feature 'a' is not finite: line 2"),
    ("a,y\n1,0\n2,\n3,NA\n4,null\n", r"target 'y' has 3 missing value\(s\) in '.*': line 3 \(''\), line 4 \('NA'\), "
                                     r"line 5 \('null'\); drop those rows or fill them in"),
    ("a,y\n1,1e400\n", r"target 'y' is not finite: line 2"),
    ('a,y\n1,"open\n', r"is not valid CSV at line 2: unexpected end of data"),
    ('a,y\n1,"ab"c\n', r"is not valid CSV at line 2: ',' expected after"),
])
def test_bad_content_is_a_data_file_error_naming_the_file(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(DataFileError, match=message) as error:
        read_csv(path, "y")
    assert repr(path) in str(error.value)


def test_a_missing_target_column_lists_the_columns(tmp_path):
    with pytest.raises(DataFileError, match=r"column 'z' is not in '.*'; its columns are a, y"):
        read_csv(write(tmp_path, "a,y\n1,2\n"), "z")


# ------------------------------------------------------------------------------------------------
# the target against the model, before any search
# ------------------------------------------------------------------------------------------------
@pytest.fixture
def no_search(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a search started")

    monkeypatch.setattr("tunelab.benchmarks.cli.tune.run_search", refuse)


def test_a_continuous_target_is_not_cast_to_classes(tmp_path, no_search):
    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i * 0.37:.2f}\n" for i in range(20)))
    for model in ("logistic", None):  # logistic is the default
        kwargs = {} if model is None else {"model": model}
        with pytest.raises(ValueError, match=r"target 'y' of '.*' holds continuous values \(e.g. 0.37 on line 3\); "
                                             r"`--model logistic` needs class labels. Use `--model linear`"):
            run_tune(path, "y", out=str(tmp_path / "out"), **kwargs)


def test_integral_float_targets_are_classes(tmp_path, monkeypatch):
    seen = {}

    def record(name, estimator, space, X_train, y_train, *args, **kwargs):
        seen["y"] = y_train
        raise AssertionError("stop here")

    monkeypatch.setattr("tunelab.benchmarks.cli.tune.run_search", record)
    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i % 3}.0\n" for i in range(30)))
    with pytest.raises(AssertionError, match="stop here"):
        run_tune(path, "y", out=str(tmp_path / "out"))
    assert seen["y"].dtype == np.int64 and set(seen["y"].tolist()) == {0, 1, 2}


@pytest.mark.parametrize("cell", ["", "NA", "N/A", "nan", "None"])
def test_missing_target_values_are_refused_before_the_search(tmp_path, no_search, cell):
    rows = [f"{i},{['b', 'm'][i % 2]}" for i in range(20)]
    rows[7] = f"7,{cell}"
    path = write(tmp_path, "a,y\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataFileError, match=rf"target 'y' has 1 missing value\(s\) in '.*': line 9 \({cell!r}\)"):
        run_tune(path, "y", out=str(tmp_path / "out"))


def test_a_linear_model_names_the_line_of_a_non_numeric_target(tmp_path, no_search):
    path = write(tmp_path, "a,y\n1,2.5\n2,3.5\n3,big\n")
    with pytest.raises(ValueError, match=r"`--model linear` needs a numeric target; 'y' of '.*' has 'big' on line 4"):
        run_tune(path, "y", model="linear", out=str(tmp_path / "out"))


@pytest.mark.parametrize("model, target, metric, message", [
    ("logistic", "y", "r2", r"`--metric r2` scores numeric predictions, but `--model logistic` predicts classes"),
    ("mlp", "y", "neg_mean_squared_error", r"`--metric neg_mean_squared_error` scores numeric predictions"),
    ("linear", "a", "accuracy", r"`--metric accuracy` scores class labels, but `--model linear` predicts numbers"),
    ("linear", "a", "f1_macro", r"`--metric f1_macro` scores class labels"),
])
def test_a_metric_for_the_other_kind_of_task_is_refused_before_the_search(tmp_path, no_search, model, target,
                                                                          metric, message):
    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    with pytest.raises(ValueError, match=message):
        run_tune(path, target, model=model, metric=metric, out=str(tmp_path / "out"))


def test_more_folds_than_training_rows_are_refused_before_the_search(tmp_path, no_search):
    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(6)))
    with pytest.raises(ValueError, match=r"`--cv 5` needs at least 5 training rows; '.*' has 6 rows, 4 of them for "
                                         r"training"):
        run_tune(path, "y", cv=5, out=str(tmp_path / "out"), storage=str(tmp_path / "s.db"))
    assert not (tmp_path / "s.db").exists()  # refused before the study file is made


# ------------------------------------------------------------------------------------------------
# random CSV text
# ------------------------------------------------------------------------------------------------
NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp")), min_size=1,
               max_size=6)
LABEL = st.text(st.sampled_from("abcxyz _-,\"'é€"), min_size=1, max_size=5).map(str.strip).filter(
    lambda s: s and s.lower() not in {"nan", "na", "none", "null", "n/a", "<na>", "#n/a", "?"})
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def tables(draw):
    """(CSV bytes, feature names, X, target name, target cells): a table written by csv.writer with random
    quoting, line ends, blank lines, padding and an optional byte-order mark."""
    d = draw(st.integers(0, 3))
    names = draw(st.lists(NAME, min_size=d + 1, max_size=d + 1, unique=True))
    n = draw(st.integers(1, 6))
    X = np.array(draw(st.lists(st.lists(FINITE, min_size=d, max_size=d), min_size=n, max_size=n)),
                 dtype=np.float64).reshape(n, d)
    labels = draw(st.one_of(st.lists(st.integers(-5, 5).map(str), min_size=n, max_size=n),
                            st.lists(LABEL, min_size=n, max_size=n)))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC]))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=quoting, lineterminator=draw(st.sampled_from(["\n", "\r\n"])))
    writer.writerow(names)
    pad = draw(st.sampled_from(["", " "]))
    for i in range(n):
        writer.writerow([f"{pad}{float(x)!r}{pad}" for x in X[i]] + [labels[i]])
        if draw(st.booleans()):
            buffer.write("\n")  # a blank line between records
    text = buffer.getvalue().encode("utf-8")
    if draw(st.booleans()):
        text = b"\xef\xbb\xbf" + text
    return text, names[:d], X, names[d], labels


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables())
def test_a_table_written_by_csv_writer_loads_exactly(tmp_path, table):
    content, features, X, target, labels = table
    loaded = read_csv(write(tmp_path, content), target.strip())
    assert loaded.features == [name.strip() for name in features]
    np.testing.assert_array_equal(loaded.X, X)
    numeric = all(label.lstrip("+-").isdigit() for label in labels)
    expected = np.array([float(v) for v in labels]) if numeric else np.array(labels)
    np.testing.assert_array_equal(loaded.y, expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from(list("ay,\"\n\r 1.5e-x") + ["NA", "\ufeff", "\x00", "é", "1e999", "a,y\n"]),
                     max_size=30).map("".join),
       encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_random_text_loads_or_is_a_data_file_error_naming_the_file(tmp_path, text, encoding):
    path = write(tmp_path, text.encode(encoding, errors="replace"))
    try:
        table = read_csv(path, "y")
    except DataFileError as error:
        assert repr(path) in str(error)
        return
    n, d = table.X.shape
    assert n >= 1 and table.y.shape == (n,) and len(table.features) == d and len(table.lines) == n
    assert table.X.dtype == np.float64 and np.isfinite(table.X).all()
    assert table.y.dtype == np.float64 or table.y.dtype.kind == "U"
