"""``python -m pyengine.cli``: the ``pyengine`` command line."""

import sys

from . import main

sys.exit(main())
