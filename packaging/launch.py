# SPDX-License-Identifier: GPL-3.0-or-later
"""The desktop bundle's entry: one program, two names. Started as `fieldcoord` it is the
command line; as `fieldcoord-app` (or anything else) it is the desktop app."""
import os
import sys


def main() -> int:
    if not any(os.environ.get(k) for k in ("LC_ALL", "LC_CTYPE", "LANG")):
        # started with no locale at all (env -i, some service managers): text is UTF-8
        os.environ["LC_CTYPE"] = "C.UTF-8"
    name = os.path.basename(sys.argv[0])
    if name in ("fieldcoord", "fieldcoord.exe"):
        from fieldcoord.cli import main as cli
        return cli()
    from fieldcoord.app import main as app
    return app()


if __name__ == "__main__":
    sys.exit(main())
