# SPDX-License-Identifier: GPL-3.0-or-later
"""The built-in demo directory: fictional Harbor County (store layer).

`load_demo` fills a database with the region (demo/loader.py, data in resources/demo/); the
database is then marked as the demo, which sync and bundles refuse to send unless the user
confirms (demo/sharing.py). The demo lives in its own file, `demo_path` beside the user's.
"""
from .loader import DEMO_HOME_CODE, DEMO_HOME_NAME, load_demo
from .sharing import DEMO_FILE, DemoNotShared, check_may_share, demo_path

__all__ = ["DEMO_FILE", "DEMO_HOME_CODE", "DEMO_HOME_NAME", "DemoNotShared", "check_may_share",
           "demo_path", "load_demo"]
