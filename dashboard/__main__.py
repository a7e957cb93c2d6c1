"""`python -m dashboard` is the same as the `inward` command."""

import sys

from dashboard.cli import main

sys.exit(main())
