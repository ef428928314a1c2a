"""``python -m ayolinx_async``: the ``ayolinx`` command without the installed script."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
