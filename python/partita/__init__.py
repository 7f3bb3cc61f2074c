"""partita: compose music with AI, natively in C++ on Eigen.

The compiled core lives in ``partita._core``; this package re-exports it and adds
the Python-only helpers (plotting, audio playback, pretty_midi conversion, CLI).
"""
import os as _os

# OpenMP reads its wait policy once, when the runtime loads with _core. Sleeping
# idle threads cost a few microseconds per parallel region; spinning ones make a
# loaded or oversubscribed machine (notebooks beside other work, several
# processes) run many times slower. Users who set the variable keep their choice.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from . import _core  # noqa: E402
from ._core import *  # noqa: F401,F403
from ._core import __version__  # noqa: F401

__all__ = [name for name in dir(_core) if not name.startswith("_")]

# Python-only helpers: notebook plotting and audio, pretty_midi conversion (also
# reachable as Score.to_pretty_midi() / Score.from_pretty_midi(pm), which the
# compiled Score defines by calling partita.pretty_midi_io).
from .plotting import Audio, plot_multitrack, plot_pianoroll  # noqa: E402
from .pretty_midi_io import from_pretty_midi, to_pretty_midi  # noqa: E402
__all__ += ["Audio", "plot_multitrack", "plot_pianoroll", "from_pretty_midi", "to_pretty_midi"]

# AR-CNN (arcnn): the model is _core.ARCNN; partita.arcnn holds the training-data helper.
if hasattr(_core, "ARCNN"):
    from . import arcnn  # noqa: E402,F401

# GAN (gan): the model is _core.GAN; partita.gan holds the styles, the shipped files and
# the training-data helper.
if hasattr(_core, "GAN"):
    from . import gan  # noqa: E402,F401

# Transformer-XL (transformer): the model is _core.TransformerXL; partita.transformer holds the
# shipped models, the config presets, the corpus helpers and readable token names.
if hasattr(_core, "TransformerXL"):
    from . import transformer  # noqa: E402,F401
