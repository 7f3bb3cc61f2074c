"""partita: compose music with AI, natively in C++ on Eigen.

The compiled core lives in ``partita._core``; this package re-exports it and adds
the Python-only helpers (plotting, audio playback, pretty_midi conversion, CLI).
"""
from . import _core
from ._core import *  # noqa: F401,F403
from ._core import __version__  # noqa: F401

__all__ = [name for name in dir(_core) if not name.startswith("_")]
