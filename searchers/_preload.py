"""Imported by the fork server that starts tunelab's worker processes (tunelab.searchers.process_pool),
never by tunelab itself: the imports a worker needs, and Numba's first load of a compiled function,
done once in the server so that every worker forked from it starts with them."""

import tunelab.core  # noqa: F401
import tunelab.optimizers  # noqa: F401
import tunelab.searchers.search_cv  # noqa: F401  (the objective of SearchCV)
from tunelab.searchers.process_pool import warm_numba

warm_numba()
