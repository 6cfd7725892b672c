"""Put this checkout's ``workflow/`` first on sys.path, so scripts import its ``teachwhy``
package even in a per-rule conda env where the package is not pip-installed."""

import sys
from pathlib import Path

WORKFLOW_DIR = str(Path(__file__).resolve().parents[1])
# First, even if already listed: Snakemake appends it after site-packages, where an editable
# install of another checkout would otherwise win.
if WORKFLOW_DIR in sys.path:
    sys.path.remove(WORKFLOW_DIR)
sys.path.insert(0, WORKFLOW_DIR)
