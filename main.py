# SPDX-License-Identifier: GPL-3.0-or-later
"""Launch the fieldcoord desktop app: python main.py [--db PATH]."""
import sys

from fieldcoord.app import main

if __name__ == "__main__":
    sys.exit(main())
