#!/usr/bin/env bash
# Execute every notebook in notebooks/ with nbclient in the small setting
# (PARTITA_NOTEBOOK_SMALL=1); any failing cell fails CI. Outputs are not saved.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=scripts/lib/python.sh
. scripts/lib/python.sh
partita_python_require "$PWD"
PY=$PARTITA_PY
export PARTITA_NOTEBOOK_SMALL=1 MPLBACKEND=Agg
for nb in notebooks/*.ipynb; do
  [ -e "$nb" ] || continue
  echo "executing $nb"
  "$PY" - "$nb" <<'PYEOF'
import sys
import nbformat
from nbclient import NotebookClient
path = sys.argv[1]
nb = nbformat.read(path, as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3",
               resources={"metadata": {"path": "notebooks"}}).execute()
print("ok", path)
PYEOF
done
