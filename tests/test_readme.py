"""The README's Python examples run as written (an example that imports a package which is not installed,
such as scikit-learn, is skipped, saying which)."""

import importlib.util
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def missing_imports(block):
    """The top-level packages that `block` imports and that cannot be found."""
    names = set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", block, flags=re.M))
    return sorted(name for name in names if importlib.util.find_spec(name) is None)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 2


def test_missing_imports_are_found_by_their_top_level_package():
    block = "import numpy as np\nfrom tunelab.core import clone\nfrom not_a_package_xyz.sub import thing\n"
    assert missing_imports(block) == ["not_a_package_xyz"]


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, capsys):
    missing = missing_imports(BLOCKS[index])
    if missing:
        pytest.skip(f"README example {index + 1} needs {', '.join(missing)}, which is not installed")
    exec(compile(BLOCKS[index], f"README.md example {index + 1}", "exec"), {"__name__": "readme_example"})
    assert capsys.readouterr().out.strip()
