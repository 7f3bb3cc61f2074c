# shellcheck shell=bash
# Which Python partita's scripts use, decided in this one place (sourced by
# scripts/setup.sh, demo.sh, test.sh and scripts/ci.d/*.sh).
#
# The base interpreter is $PYTHON, else python3. partita installs into it directly
# unless it is "externally managed" (PEP 668: an EXTERNALLY-MANAGED file in its stdlib
# folder, as on stock Debian 12 and Ubuntu 23.04+, where `pip install` is refused) or
# the user asks for a virtual environment with PARTITA_VENV:
#   PARTITA_VENV unset or empty  a venv only for an externally managed Python
#   PARTITA_VENV=1 (yes, on)     always a venv, in .venv at the top of the repo
#   PARTITA_VENV=0 (no, off)     never a venv (pip may then refuse to install)
#   PARTITA_VENV=DIR             always a venv, in DIR
# A base interpreter that already runs inside a venv is used as it is.
#
# partita_python_select REPO_ROOT sets
#   PARTITA_PY       the interpreter to run (the venv's python when a venv is used)
#   PARTITA_PY_VENV  the venv folder, or empty when no venv is used
#   PARTITA_PY_WHY   one line saying why, for the scripts' output
# partita_python_require REPO_ROOT does the same and fails with a hint when the
# chosen venv does not exist yet (scripts/setup.sh creates it).

partita_python_select() {
  local root=$1 base=${PYTHON:-python3} state want
  PARTITA_PY=$base PARTITA_PY_VENV="" PARTITA_PY_WHY=""
  # 0: a plain interpreter, 1: externally managed, 2: already a venv, 3: not runnable
  state=$("$base" - 2>/dev/null <<'PYEOF' || echo 3
import os, sys, sysconfig
if sys.prefix != sys.base_prefix:
    print(2)
else:
    marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    print(1 if os.path.isfile(marker) else 0)
PYEOF
)
  want=${PARTITA_VENV:-}
  case "$want" in
    0|no|off|false) PARTITA_PY_WHY="PARTITA_VENV=$want: using $base as it is"; return 0 ;;
  esac
  if [ "$state" = 2 ]; then
    PARTITA_PY_WHY="$base already runs in a virtual environment"; return 0
  fi
  if [ "$state" = 3 ]; then
    PARTITA_PY_WHY="$base cannot be run"; return 0
  fi
  case "$want" in
    "") [ "$state" = 1 ] || { PARTITA_PY_WHY="$base is not externally managed: installing into it"; return 0; }
        PARTITA_PY_VENV="$root/.venv"
        PARTITA_PY_WHY="$base is externally managed (PEP 668)" ;;
    1|yes|on|true) PARTITA_PY_VENV="$root/.venv"; PARTITA_PY_WHY="PARTITA_VENV=$want" ;;
    /*) PARTITA_PY_VENV="$want"; PARTITA_PY_WHY="PARTITA_VENV=$want" ;;
    *) PARTITA_PY_VENV="$root/$want"; PARTITA_PY_WHY="PARTITA_VENV=$want" ;;
  esac
  PARTITA_PY="$PARTITA_PY_VENV/bin/python"
}

partita_python_require() {
  partita_python_select "$1"
  if [ -n "$PARTITA_PY_VENV" ] && [ ! -x "$PARTITA_PY" ]; then
    echo "partita: $PARTITA_PY_WHY, so partita lives in the virtual environment" \
         "$PARTITA_PY_VENV, which does not exist yet: run scripts/setup.sh first" >&2
    return 1
  fi
}
