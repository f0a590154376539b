"""``python -m rnnlab ...``: the ``rnnlab`` command, also as ``torchrun -m rnnlab train TASK ...``.

Under torchrun (``RANK`` set) only rank 0 prints to stdout; every process keeps stderr, where
errors go.
"""

import os
import sys

from rnnlab.cli import main

if __name__ == "__main__":
    if int(os.environ.get("RANK", "0")) > 0:  # one copy of the results, from rank 0
        sys.stdout = open(os.devnull, "w")  # for the life of the process
    sys.exit(main())
