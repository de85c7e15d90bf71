"""``python -m pyengine``: the ``pyengine`` command line."""

import sys

from .cli import main

sys.exit(main())
