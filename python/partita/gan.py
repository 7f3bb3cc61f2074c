"""GAN helpers that need no compiled code of their own.

The model itself is ``partita.GAN`` (compiled: load, pretrained, save, generate,
critique, accompany, accompany_roll, fit with a progress bar); this module adds
what the command line and notebooks share:

* ``STYLES`` and ``style_config(style)``: the shipped styles and their compact config.
* ``DEFAULT_WEIGHTS`` and ``pretrained_available(name)``: the shipped model files
  (``GAN.pretrained(name)`` raises IoError while a file is not installed).
* ``training_windows(...)``: the JSB chorales (or a MIDI folder) as train/valid
  2-bar multitrack windows, split as ``partita-cli train gan`` splits them.
"""
from __future__ import annotations

import os
from typing import Optional, Tuple, Union

from . import _core

#: The styles partita ships a GAN for (registry names of ``GAN.pretrained``).
STYLES = ("chorale", "quartet")

_MODELS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")
#: The shipped model files inside the package, by style (``GAN.pretrained(style)``
#: finds them through the registry: $PARTITA_GAN_<STYLE>_WEIGHTS first, then next
#: to the library).
DEFAULT_WEIGHTS = {style: os.path.join(_MODELS, f"gan-{style}.safetensors") for style in STYLES}


def style_config(style: str = "chorale", filters: Optional[int] = None,
                 latent_channels: Optional[int] = None) -> _core.GanConfig:
    """``GanConfig.compact()`` in `style` ("chorale": Alto, Tenor, Bass on Choir Aahs;
    "quartet": Violin II, Viola, Cello), optionally with other `filters` or
    `latent_channels` (what ``partita train gan --style --filters --latent`` builds)."""
    if style not in STYLES:
        raise _core.InvalidArgument(f"style must be one of {', '.join(STYLES)}, got {style!r}")
    config = _core.GanConfig.compact()
    if style == "quartet":
        config = config.with_quartet_style()
    if filters is not None:
        config.filters = filters
    if latent_channels is not None:
        config.latent_channels = latent_channels
    config.validate()
    return config


def pretrained_available(name: str = "chorale") -> bool:
    """Whether the file of shipped GAN `name` is installed (``GAN.pretrained(name)``
    would find it). InvalidArgument for a name partita does not ship."""
    try:
        _core.shipped_model_path(name)
    except _core.IoError:
        return False
    return True


def training_windows(source: Union[str, os.PathLike] = "jsb", melody_track: Union[int, str] = 0,
                     tracks: int = 4, window: int = 32,
                     hop: int = 16) -> Tuple[_core.MultiTrackWindows, _core.MultiTrackWindows]:
    """(train, valid) MultiTrackWindows of `window` steps every `hop` steps.

    source "jsb": the JSB chorales' training and validation splits (SATB, melody =
    soprano). Otherwise a folder of MIDI files read with ``load_multitrack_folder``
    (`melody_track`: index among the non-drum tracks, or name; `tracks` per roll);
    with ten or more files, file i validates when i % 10 == 4 and is held out when
    i % 10 == 9 (in path order), as ``partita-cli train gan --midi-dir`` does.
    """
    if isinstance(source, str) and source == "jsb":
        splits = _core.load_jsb_multitrack()
        train_rolls, valid_rolls = list(splits.train), list(splits.valid)
    else:
        folder = _core.load_multitrack_folder(source, melody_track, tracks)
        rolls = list(folder.rolls)
        if not rolls:
            raise _core.InvalidArgument(f"no usable MIDI files in {os.fspath(source)!r} "
                                        f"({len(folder.skipped)} skipped)")
        split = len(rolls) >= 10
        train_rolls = [r for i, r in enumerate(rolls) if not (split and i % 10 in (4, 9))]
        valid_rolls = [r for i, r in enumerate(rolls) if split and i % 10 == 4]
    train = _core.make_multitrack_windows(train_rolls, window, hop)
    valid = (_core.make_multitrack_windows(valid_rolls, window, hop) if valid_rolls
             else _core.make_multitrack_windows([], window, hop))
    return train, valid
