import sys

from tunelab.benchmarks.cli import main

sys.exit(main())
