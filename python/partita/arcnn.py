"""AR-CNN helpers that need no compiled code of their own.

The model itself is ``partita.ARCNN`` (compiled: load, pretrained, edit, edit_roll,
fit with a progress bar); this module adds the training data helper and the
location of the model file shipped inside the package.

* ``training_windows(...)``: the JSB chorales (or a MIDI folder) as train/valid windows.
* ``default_weights_path()``: where ``ARCNN.pretrained()`` finds the shipped model.
"""
import os

from . import _core

#: The shipped model's file inside the package (``ARCNN.pretrained()`` finds it
#: through the registry: $PARTITA_ARCNN_WEIGHTS first, then next to the library).
DEFAULT_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models",
                               "arcnn-default.safetensors")


def default_weights_path():
    """The file ``ARCNN.pretrained()`` loads (the C++ registry's search)."""
    return _core.ARCNN.default_weights_path()


def training_windows(source="jsb", valid_fraction=0.1, seed=0, window=128, hop=64):
    """(train, valid) WindowSets: source "jsb" (the JSB training split, split 90/10 as
    the reference) or a folder of MIDI files."""
    if source == "jsb":
        windows = _core.jsb_windows("train", None, window, hop)
    else:
        windows = _core.midi_folder_windows(source, window, hop).windows
    return _core.split_windows(windows, valid_fraction, seed)
