"""Notebook helpers: draw a piano roll with matplotlib, play a score in IPython.

``plot_pianoroll`` takes a PianoRoll, a MultiTrackRoll, a Score or a numpy array
((time, 128) or (track, time, 128)) and draws time (in beats) across and pitch
up, with bar lines from the roll's time signature; tracks of a multitrack roll
are overlaid in different colours. ``plot_multitrack`` draws the same input one
track a row, over a shared time axis. ``Audio`` renders a score with
``partita.Synth`` and wraps the samples in ``IPython.display.Audio``.
matplotlib and IPython are imported only when these functions are called.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Sequence, Union

import numpy as np

if TYPE_CHECKING:  # only for type checkers: both are optional at run time
    import IPython.display
    import matplotlib.axes

    from ._core import MultiTrackRoll, PianoRoll, Score

    RollLike = Union[PianoRoll, MultiTrackRoll, Score, np.ndarray]

_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
# Track colours (RGB) for multitrack overlays: blue, orange, green, red, purple, brown.
_COLORS = np.array([[0.12, 0.47, 0.71], [1.00, 0.50, 0.05], [0.17, 0.63, 0.17],
                    [0.84, 0.15, 0.16], [0.58, 0.40, 0.74], [0.55, 0.34, 0.29]])


def _pitch_name(p):
    return f"{_NAMES[p % 12]}{p // 12 - 1}"


def _as_rolls(obj, resolution):
    """(cells (track, time, 128) float in [0, 1], resolution, (num, den), names)."""
    from . import _core as core
    if hasattr(core, "Score") and isinstance(obj, core.Score):
        obj = core.to_multitrack(obj, resolution=resolution or 4)
    if isinstance(obj, core.PianoRoll):
        cells = np.asarray(obj.array)[None]
        res, ts, names = obj.resolution, obj.time_signature, [obj.name]
        binary = obj.binary
    elif isinstance(obj, core.MultiTrackRoll):
        cells = np.asarray(obj.array)
        res, ts, names = obj.resolution, obj.time_signature, list(obj.names)
        binary = obj.binary
    else:
        cells = np.asarray(obj)
        if cells.ndim == 2:
            cells = cells[None]
        if cells.ndim != 3 or cells.shape[-1] != 128:
            raise core.ShapeError(
                f"plot_pianoroll: expected a (time, 128) or (track, time, 128) array, "
                f"got shape {cells.shape}")
        res, ts, names = resolution or 4, (4, 4), [""] * cells.shape[0]
        binary = cells.dtype == bool
    if resolution is not None and resolution != res:
        res = resolution  # the caller's reading of the grid wins
    scale = 1.0 if binary else 127.0
    return np.clip(cells.astype(np.float32) / scale, 0.0, 1.0), res, tuple(ts), names


def plot_pianoroll(roll: RollLike, ax: matplotlib.axes.Axes | None = None, resolution: int | None = None,
                   *, pitch_range: tuple[int, int] | None = None, bar_lines: bool = True,
                   beat_lines: bool = False, cmap: str = "Blues", title: str | None = None,
                   legend: bool = True) -> matplotlib.axes.Axes:
    """Draw `roll` on `ax` (a new figure when None) and return the Axes.

    roll: PianoRoll, MultiTrackRoll, Score (rolled per track at `resolution`, default 4)
        or a numpy array (time, 128) / (track, time, 128) of velocities or bool.
    resolution: steps per quarter note (default: the roll's own; 4 for arrays and scores).
    pitch_range: (lowest, highest) MIDI pitch shown; default: the notes' range +- 2.
    bar_lines / beat_lines: vertical lines at bars (from the time signature) / beats.
    cmap: colormap for a single track; several tracks get one colour each.
    The x axis is in beats (quarter notes), the y axis in MIDI pitch (C labels).
    """
    import matplotlib.pyplot as plt

    cells, res, sig, names = _as_rolls(roll, resolution)
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 4))
    _draw(ax, cells, res, sig, names, pitch_range, bar_lines, beat_lines, cmap, legend)
    if title:
        ax.set_title(title)
    return ax


def plot_multitrack(roll: RollLike, axes: Sequence[matplotlib.axes.Axes] | None = None,
                    resolution: int | None = None, *, pitch_range: tuple[int, int] | None = None,
                    bar_lines: bool = True, beat_lines: bool = False, title: str | None = None,
                    track_height: float = 1.8) -> list[matplotlib.axes.Axes]:
    """Draw each track of `roll` in its own row (shared time axis) and return the Axes.

    roll: as plot_pianoroll's (a MultiTrackRoll, a Score, a (track, time, 128) array, ...).
    axes: one Axes per track (default: a new figure, `track_height` inches a row).
    pitch_range: (lowest, highest) MIDI pitch of every row; default: each track's own
        range +- 2. Rows are titled with the track names and drawn in the track colours
        plot_pianoroll overlays them with.
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LinearSegmentedColormap

    cells, res, sig, names = _as_rolls(roll, resolution)
    k = cells.shape[0]
    if axes is None:
        fig, grid = plt.subplots(k, 1, figsize=(10, track_height * k), sharex=True, squeeze=False)
        axes = list(grid[:, 0])
        if title:
            fig.suptitle(title)
    else:
        axes = list(axes)
        if len(axes) != k:
            from . import _core as core
            raise core.InvalidArgument(f"plot_multitrack: {k} tracks need {k} axes, got {len(axes)}")
        if title:
            axes[0].set_title(title)
    for i, ax in enumerate(axes):
        colour = LinearSegmentedColormap.from_list(f"track{i}", [(1, 1, 1), _COLORS[i % len(_COLORS)]])
        _draw(ax, cells[i:i + 1], res, sig, names[i:i + 1], pitch_range, bar_lines, beat_lines, colour, False)
        ax.set_title(names[i] or f"track {i}", loc="left", fontsize="small")
        if i + 1 < k:
            ax.set_xlabel("")
    return axes


def _draw(ax, cells, res, sig, names, pitch_range, bar_lines, beat_lines, cmap, legend):
    """Draw (track, time, 128) cells in [0, 1] on `ax` (see plot_pianoroll)."""
    from matplotlib.patches import Patch

    num, den = sig
    k, steps, _ = cells.shape
    active = np.nonzero(cells.max(axis=(0, 1)) > 0)[0]
    if pitch_range is None:
        pitch_range = ((max(int(active[0]) - 2, 0), min(int(active[-1]) + 2, 127))
                       if active.size else (48, 84))
    lo, hi = int(pitch_range[0]), int(pitch_range[1])
    if not 0 <= lo <= hi <= 127:
        from . import _core as core
        raise core.InvalidArgument(f"plot_pianoroll: pitch_range must lie in 0..127, got {pitch_range}")
    window = cells[:, :, lo:hi + 1]
    extent = (0.0, steps / res, lo - 0.5, hi + 0.5)
    common: dict[str, Any] = dict(origin="lower", aspect="auto", interpolation="nearest", extent=extent)
    if k == 1:
        ax.imshow(window[0].T, cmap=cmap, vmin=0.0, vmax=1.0, **common)
    else:
        # Blend each track's colour over white, weighted by its cell values.
        image = np.ones((hi - lo + 1, steps, 3), np.float32)
        for i in range(k):
            w = window[i].T[..., None]
            image = image * (1 - w) + _COLORS[i % len(_COLORS)] * w
        ax.imshow(image, **common)
        if legend:
            handles = [Patch(color=_COLORS[i % len(_COLORS)], label=names[i] or f"track {i}")
                       for i in range(k)]
            ax.legend(handles=handles, loc="upper right", fontsize="small")
    beats_per_bar = num * 4.0 / den
    if beat_lines:
        for b in np.arange(1.0, steps / res, 1.0):
            ax.axvline(b, color="0.85", linewidth=0.5)
    if bar_lines and beats_per_bar > 0:
        for b in np.arange(beats_per_bar, steps / res, beats_per_bar):
            ax.axvline(b, color="0.5", linewidth=0.8)
    cs = [p for p in range(lo, hi + 1) if p % 12 == 0]
    ax.set_yticks(cs)
    ax.set_yticklabels([_pitch_name(p) for p in cs])
    ax.set_xlabel("beats")
    ax.set_ylabel("pitch")


def Audio(score_or_audio: RollLike | str | os.PathLike[str], sample_rate: int = 44100, *,  # noqa: N802
          normalize: bool = True, **synth_kwargs: Any) -> IPython.display.Audio:
    """An IPython.display.Audio player for a Score, PianoRoll, MIDI path or samples.

    score_or_audio: a partita.Score, PianoRoll or MultiTrackRoll (rendered with
        partita.Synth(sample_rate=..., **synth_kwargs).render(score)), a path to a
        MIDI file, or audio samples as a numpy array (frames,) or (frames, channels).
    sample_rate: of the rendering, or of the given samples.
    """
    try:
        from IPython.display import Audio as _IPyAudio
    except ImportError as e:  # pragma: no cover - exercised only without IPython
        raise ImportError("partita.Audio needs IPython: pip install ipython") from e

    from . import _core as core
    obj = score_or_audio
    if isinstance(obj, (str, os.PathLike)):
        obj = core.read_midi(obj)
    if isinstance(obj, (core.PianoRoll, core.MultiTrackRoll)):
        obj = obj.to_score()
    if hasattr(core, "Score") and isinstance(obj, core.Score):
        synth_cls = getattr(core, "Synth", None)
        if synth_cls is None:
            raise ImportError("partita.Audio: this partita build has no Synth (built without "
                              "the FluidSynth renderer)")
        obj = synth_cls(sample_rate=sample_rate, **synth_kwargs).render(obj)
    samples = np.asarray(obj, dtype=np.float32)
    if samples.ndim == 2:
        samples = samples.T  # IPython wants (channels, frames)
    elif samples.ndim != 1:
        raise core.ShapeError(
            f"Audio: samples must be (frames,) or (frames, channels), got shape {samples.shape}")
    if not normalize:
        samples = np.clip(samples, -1.0, 1.0)
    return _IPyAudio(samples, rate=int(sample_rate), normalize=normalize)
