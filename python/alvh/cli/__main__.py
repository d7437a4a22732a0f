"""``python -m alvh.cli``: the ``alvh`` command."""

import sys

from alvh.cli import main

__all__: list[str] = []

sys.exit(main())
