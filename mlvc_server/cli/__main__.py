"""``python -m mlvc_server.cli``: the ``mlvc`` command."""

import sys

from . import main

sys.exit(main())
