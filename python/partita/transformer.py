"""Transformer-XL helpers that need no compiled code of their own.

The model itself is ``partita.TransformerXL`` (compiled: load, pretrained, save,
extend, evaluate_nll, fit with a progress bar, begin_generation / prime /
next_logits); this module adds what the command line and notebooks share:

* ``MODELS`` and ``pretrained_available(name)``: the shipped models
  (``TransformerXL.pretrained(name)`` raises IoError while a file is not installed).
* ``CONFIGS`` and ``named_config(name, **fields)``: the config presets, with any
  field changed (what ``partita train transformer --config --layers ...`` builds).
* ``load_corpus(data)``: "jsb" and MIDI folders, comma-separated, as one
  PerformanceCorpus (what ``--data jsb,DIR`` reads).
* ``training_splits(...)``: the augmented training split and the validation split.
* ``token_name(token)`` / ``token_names(tokens)``: performance tokens as readable text.
"""
from __future__ import annotations

import os
from typing import Iterable, List, Optional, Tuple, Union

from . import _core

#: The Transformer-XL models partita ships (registry names of ``TransformerXL.pretrained``).
MODELS = ("transformer", "transformer-jsb")

#: The config presets by name: the reference network, the shipped size, a test network.
CONFIGS = ("reference", "medium", "small")

_NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def pretrained_available(name: str = "transformer") -> bool:
    """Whether the file of shipped Transformer-XL `name` is installed
    (``TransformerXL.pretrained(name)`` would find it). InvalidArgument for a name
    partita does not ship."""
    try:
        _core.shipped_model_path(name)
    except _core.IoError:
        return False
    return True


def named_config(name: str = "medium", **fields: Union[int, float]) -> _core.TransformerXLConfig:
    """``TransformerXLConfig.<name>()`` ("reference", "medium" or "small") with the
    given fields changed, e.g. ``named_config("small", layers=3, memory=32)``;
    InvalidArgument for another name, an unknown field or a value out of range."""
    if name not in CONFIGS:
        raise _core.InvalidArgument(f"config must be one of {', '.join(CONFIGS)}, got {name!r}")
    config = getattr(_core.TransformerXLConfig, name)()
    for key, value in fields.items():
        if key.startswith("_") or not hasattr(config, key) or callable(getattr(config, key)):
            raise _core.InvalidArgument(f"TransformerXLConfig has no field {key!r}")
        setattr(config, key, value)
    config.validate()
    return config


def load_corpus(data: Union[str, os.PathLike[str]] = "jsb", jsb_qpm: float = 100.0) -> _core.PerformanceCorpus:
    """One PerformanceCorpus from a comma-separated list of sources: "jsb" (the JSB
    chorales' standard split, played at `jsb_qpm`) and folders of MIDI files (their
    train/valid/test subfolders, or every 10th file valid / test); each split holds
    every source's pieces in the order given. The folders' unusable files are listed
    in the corpus's ``skipped``."""
    items = [os.fspath(data)] if not isinstance(data, str) else [s for s in data.split(",") if s.strip()]
    if not items:
        raise _core.InvalidArgument("no corpus given (expected 'jsb' and/or MIDI folders)")
    corpus = _core.PerformanceCorpus()
    for item in items:
        corpus.append(_core.jsb_performances(qpm=jsb_qpm) if item == "jsb" else _core.load_performance_folder(item))
    return corpus


def training_splits(data: Union[str, os.PathLike[str], _core.PerformanceCorpus] = "jsb", augment: int = 1,
                    max_transpose: int = 3, seed: int = 0,
                    jsb_qpm: float = 100.0) -> Tuple[_core.PerformanceSplit, _core.PerformanceSplit]:
    """(train, valid) PerformanceSplits as ``partita train transformer`` trains on them:
    the training split with `augment` seeded variants of each piece (stretched by
    0.95-1.05, transposed by up to +-`max_transpose` semitones), the validation split
    as it is. `data` is a PerformanceCorpus or what ``load_corpus`` reads."""
    corpus = data if isinstance(data, _core.PerformanceCorpus) else load_corpus(data, jsb_qpm)
    train = corpus.train
    if augment > 0:
        train = _core.augment_performances(train, copies=augment, max_transpose=max_transpose, seed=seed)
    return train, corpus.valid


def token_name(token: int, options: Optional[_core.EventOptions] = None) -> str:
    """A performance token as text: "<S>", "<PAD>", "SHIFT 250ms", "ON C4", "OFF C4",
    "VELOCITY 20" (the bin); InvalidArgument outside the vocabulary."""
    o = options if options is not None else _core.EventOptions()
    t = int(token)
    if t == 0:
        return "<S>"
    if t == 1:
        return "<PAD>"
    if t <= o.time_shift_token(o.max_shift_steps):
        return f"SHIFT {(t - o.time_shift_token(0)) * 1000 // o.steps_per_second}ms"
    if t < o.velocity_token(1):
        pitch = o.min_pitch + (t - o.note_on_token(o.min_pitch)) // 2
        kind = "ON" if (t - o.note_on_token(o.min_pitch)) % 2 == 0 else "OFF"
        return f"{kind} {_NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"
    if t < o.vocab_size:
        return f"VELOCITY {t - o.velocity_token(1) + 1}"
    raise _core.InvalidArgument(f"token {t} is outside the vocabulary 0..{o.vocab_size - 1}")


def token_names(tokens: Iterable[int], options: Optional[_core.EventOptions] = None) -> List[str]:
    """``token_name`` of every token."""
    o = options if options is not None else _core.EventOptions()
    return [token_name(t, o) for t in tokens]
