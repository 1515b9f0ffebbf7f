"""``python -m kb_bot.cli``: the same as the ``kb-bot`` console script."""

import sys

from . import main

sys.exit(main())
