"""AR-CNN conveniences on top of ``partita._core.ARCNN``.

* ``ARCNN.pretrained()``: the shipped model, from this package's ``models/`` folder
  (or ``$PARTITA_ARCNN_WEIGHTS``).
* ``ARCNN.fit(train, valid=None, ...)``: training with a tqdm progress bar
  (``progress=False`` to turn it off), per-step callback, validation each epoch,
  best checkpoint kept and resume. The C++ loop runs without the GIL.
* ``training_windows(...)``: the JSB chorales (or a MIDI folder) as train/valid windows.
"""
import math
import os

from . import _core

ARCNN = _core.ARCNN

#: The shipped model's file inside the package.
DEFAULT_WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models",
                               "arcnn-default.safetensors")


def default_weights_path():
    """$PARTITA_ARCNN_WEIGHTS if set, else the file shipped in the package."""
    env = os.environ.get("PARTITA_ARCNN_WEIGHTS")
    path = env or DEFAULT_WEIGHTS
    if not os.path.exists(path):
        raise _core.IoError(
            f"ARCNN.pretrained: no weights at {path}"
            + (" ($PARTITA_ARCNN_WEIGHTS)" if env else " (reinstall partita, or train one with "
               "`partita train arcnn` and set PARTITA_ARCNN_WEIGHTS)"))
    return path


def _pretrained(cls=None):
    """The shipped AR-CNN model (trained on the JSB chorales; see docs/arcnn.md)."""
    return ARCNN.load(default_weights_path())


def training_windows(source="jsb", valid_fraction=0.1, seed=0, window=128, hop=64):
    """(train, valid) WindowSets: source "jsb" (the JSB training split, split 90/10 as
    the reference) or a folder of MIDI files."""
    if source == "jsb":
        windows = _core.jsb_windows("train", None, window, hop)
    else:
        windows, _used, _skipped = _core.midi_folder_windows(source, window, hop)
    return _core.split_windows(windows, valid_fraction, seed)


def _fit(self, train, valid=None, *, epochs=10, batch_size=32, lr=1e-3, seed=0, variants=8,
         transpose=0, checkpoint_dir=None, resume=False, max_steps_per_epoch=0,
         max_valid_batches=0, callback=None, progress=True):
    """Train on ``train`` windows (a WindowSet), validating on ``valid`` each epoch.

    callback(step_info: dict) is called after every optimizer step (return False to
    stop). With ``checkpoint_dir``, last/best weights and the optimizer state are written
    atomically each epoch; ``resume=True`` continues from them. Returns a dict with
    ``history`` (one dict per epoch), ``best_valid_loss``, ``best_epoch``, ``stopped``.
    """
    if valid is None:
        valid = _core.WindowSet(__import__("numpy").zeros((0, train.steps, 128), "uint8"))
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=None, unit="step", dynamic_ncols=True)

    def on_step(info):
        if bar is not None:
            if bar.total != info["steps_in_epoch"]:
                bar.reset(total=info["steps_in_epoch"])
            bar.set_description(f"epoch {info['epoch']}")
            bar.set_postfix(loss=f"{info['loss']:.4f}", refresh=False)
            bar.update(1)
        if callback is not None:
            r = callback(info)
            return r is None or bool(r)
        return True

    def on_epoch(info):
        if bar is not None:
            v = info["valid_loss"]
            bar.write(f"epoch {info['epoch']}: train_loss {info['train_loss']:.4f}"
                      + ("" if v is None or math.isnan(v) else f" valid_loss {v:.4f}")
                      + (" (best)" if info["best"] else ""))
            bar.reset()

    try:
        return self._fit(train, valid, epochs, batch_size, lr, seed, variants, transpose,
                         os.fspath(checkpoint_dir) if checkpoint_dir else "", resume,
                         max_steps_per_epoch, max_valid_batches, on_step, on_epoch)
    finally:
        if bar is not None:
            bar.close()


_edit_roll = ARCNN.edit_roll


def _edit_roll_any(self, roll, max_remove_pct=100.0, max_add=500, iterations=100, creative_risk=1.0,
                   seed=0):
    """Edit a (time, 128) roll on the 16th-note grid: a numpy array, or a partita.PianoRoll
    whose resolution must be 4 steps per quarter (InvalidArgument otherwise)."""
    if hasattr(_core, "PianoRoll") and isinstance(roll, _core.PianoRoll):
        if roll.resolution != 4:
            raise _core.InvalidArgument(
                f"ARCNN.edit_roll: the model works on 16th notes (resolution 4), this roll has "
                f"resolution {roll.resolution}; convert the Score with resolution=4")
        roll = roll.array
    return _edit_roll(self, roll, max_remove_pct, max_add, iterations, creative_risk, seed)


_edit_roll_any.__doc__ = (_edit_roll_any.__doc__ or "")
ARCNN.edit_roll = _edit_roll_any
ARCNN.pretrained = staticmethod(_pretrained)
ARCNN.fit = _fit
