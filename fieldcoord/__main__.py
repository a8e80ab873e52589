# SPDX-License-Identifier: GPL-3.0-or-later
"""`python -m fieldcoord`: the command line, as the `fieldcoord` script."""
import sys

from .cli import main

sys.exit(main())
