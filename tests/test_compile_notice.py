"""The first run on a machine says, in one line, that tunelab's kernels are compiling; a run that loads them from
Numba's cache says nothing."""

import os
import subprocess
import sys

from tunelab.core._compile_notice import family

FIT = """
import numpy as np
from tunelab.core import _linear_kernels
_linear_kernels.intercept_fitted(np.zeros(0, np.int64))  # the smallest kernel: the first call compiles it
"""


def test_the_notice_shows_on_a_compile_and_not_on_a_cache_load(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    run = lambda: subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True, env=env, check=True)
    first, second = run(), run()
    notices = [line for line in first.stderr.splitlines() if "compiling tunelab's kernels" in line]
    assert len(notices) == 1
    assert notices[0].startswith("tunelab: compiling tunelab's kernels for this machine, once (about ")
    assert notices[0].endswith(" s): the linear models")
    assert "compiling" not in second.stderr
    assert first.stdout == second.stdout == ""


def test_families_by_module():
    assert family("tunelab.core._mlp_kernels.mlp_loss_grad")[0] == "the MLP"
    assert family("tunelab.optimizers._loop.epoch__tunelab_core__mlp_kernels_mlp_loss_grad__0")[0] == "the MLP"
    assert family("tunelab.optimizers._loop.epoch__tunelab_core__linear_kernels_logistic_loss_grad__0")[0] \
        == "the linear models"
    assert family("tunelab.core._linear_sgd.sgd_epoch")[0] == "the linear models"
    assert family("tunelab.searchers.bayes._kernels.correlation")[0] == "the GP search"
    assert family("tunelab.searchers._pareto_kernels.hypervolume_3d")[0] == "the hypervolume"
    assert family("tunelab.searchers.tpe._kernels.log_pdf")[0] == "the TPE search"
    assert family("mypackage.kernel") is None
