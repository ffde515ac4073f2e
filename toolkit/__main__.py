"""``python -m toolkit`` runs the ``slr`` command."""

import sys

from toolkit.cli import main

sys.exit(main())
