"""`python -m partita ...`: the same as the `partita` command (see partita/cli.py)."""
import sys

from .cli import main

sys.exit(main())
