# SPDX-License-Identifier: GPL-3.0-or-later
"""Store benchmarks: search latency, write overhead, bulk load and size against plain SQLite."""

# Bump when the generated data changes: cached databases under bench/out/ keyed by another
# version are rebuilt.
DATA_VERSION = "d1"
SEED = 20240611
