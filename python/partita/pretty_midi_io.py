"""Conversion between partita.Score and pretty_midi.PrettyMIDI.

A Score keeps times in ticks with a tempo map; pretty_midi keeps seconds plus
its own tick grid (``resolution`` = ticks per quarter, a tempo map in
``_tick_scales``). Both directions keep the tick grid, so a round trip
``Score -> PrettyMIDI -> Score`` gives the same ticks back:

* ``to_pretty_midi(score)``: PrettyMIDI(resolution=score.ticks_per_quarter)
  with the whole tempo map (pretty_midi has no public setter for tempo changes
  after the first, so the map is written to ``_tick_scales``, the documented
  way its own MIDI reader stores it), time and key signatures, and one
  Instrument per Track (program, is_drum, name, notes, control changes, pitch
  bends) with times from ``score.seconds``.
* ``from_pretty_midi(pm)``: a Score at ``pm.resolution`` ticks per quarter;
  every time goes through ``pm.time_to_tick`` (nearest tick).

pretty_midi is imported only when one of these functions is called.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pretty_midi

    from ._core import Score


def _pretty_midi():
    try:
        import pretty_midi
    except ImportError as e:  # pragma: no cover - exercised only without pretty_midi
        raise ImportError(
            "partita's pretty_midi conversion needs the pretty_midi package: "
            "pip install pretty_midi") from e
    return pretty_midi


def _core():
    from . import _core as core
    if not hasattr(core, "Score"):  # pragma: no cover - only while bindings are incomplete
        raise ImportError("this partita build has no Score bindings (bind_music)")
    return core


def to_pretty_midi(score: Score) -> pretty_midi.PrettyMIDI:
    """Return a pretty_midi.PrettyMIDI with the notes, tempo map, time and key
    signatures, programs, drum flags, names, control changes and pitch bends of
    `score` (a partita.Score)."""
    pretty_midi = _pretty_midi()
    tpq = int(score.ticks_per_quarter)
    tempos = sorted(score.tempos, key=lambda t: t.tick)
    first_qpm = tempos[0].qpm if tempos and tempos[0].tick == 0 else 120.0
    pm = pretty_midi.PrettyMIDI(resolution=tpq, initial_tempo=first_qpm)

    # Tempo map as pretty_midi stores it: (tick, seconds per tick) from each change on.
    scales = [(0, 60.0 / (first_qpm * tpq))]
    for t in tempos:
        if t.tick == 0:
            continue
        scales.append((int(t.tick), 60.0 / (t.qpm * tpq)))
    pm._tick_scales = scales
    last_tick = max([score.end_tick] + [t for t, _ in scales])
    pm._update_tick_to_time(last_tick + 1)

    def seconds(ticks):
        ticks = np.asarray(ticks, dtype=np.int64)
        return score.seconds(ticks) if ticks.size else np.zeros(0)

    for ts in score.time_signatures:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(
            int(ts.numerator), int(ts.denominator), float(score.seconds(int(ts.tick)))))
    for ks in score.key_signatures:
        key = pretty_midi.mode_accidentals_to_key_number(1 if ks.minor else 0, int(ks.sharps))
        pm.key_signature_changes.append(
            pretty_midi.KeySignature(key, float(score.seconds(int(ks.tick)))))

    for track in score.tracks:
        inst = pretty_midi.Instrument(program=int(track.program), is_drum=bool(track.is_drum),
                                      name=track.name)
        notes = track.notes.copy()  # free-standing copies: faster to read than views
        starts = seconds([n.start for n in notes])
        ends = seconds([n.end for n in notes])
        inst.notes = [pretty_midi.Note(velocity=int(n.velocity), pitch=int(n.pitch),
                                       start=float(s), end=float(e))
                      for n, s, e in zip(notes, starts, ends)]
        controls = track.controls.copy()
        inst.control_changes = [
            pretty_midi.ControlChange(number=int(c.number), value=int(c.value), time=float(t))
            for c, t in zip(controls, seconds([c.tick for c in controls]))]
        bends = track.pitch_bends.copy()
        inst.pitch_bends = [pretty_midi.PitchBend(pitch=int(b.value), time=float(t))
                            for b, t in zip(bends, seconds([b.tick for b in bends]))]
        pm.instruments.append(inst)
    return pm


def from_pretty_midi(pm: pretty_midi.PrettyMIDI) -> Score:
    """Return a partita.Score from a pretty_midi.PrettyMIDI: ticks per quarter =
    pm.resolution, every time mapped to its nearest tick with pm.time_to_tick."""
    pretty_midi = _pretty_midi()
    core = _core()

    def tick(t):
        return int(pm.time_to_tick(t))

    times, qpms = pm.get_tempo_changes()
    tempos = [core.TempoChange(tick=tick(t), qpm=float(q)) for t, q in zip(times, qpms)]
    time_signatures = [core.TimeSignature(tick=tick(ts.time), numerator=int(ts.numerator),
                                          denominator=int(ts.denominator))
                       for ts in pm.time_signature_changes]
    key_signatures = []
    for ks in pm.key_signature_changes:
        mode, accidentals = pretty_midi.key_number_to_mode_accidentals(ks.key_number)
        key_signatures.append(core.KeySignature(tick=tick(ks.time), sharps=int(accidentals),
                                                minor=bool(mode == 1)))
    tracks = []
    for inst in pm.instruments:
        notes = [core.Note(pitch=int(n.pitch), velocity=int(n.velocity), start=tick(n.start),
                           end=tick(n.end)) for n in inst.notes]
        controls = [core.ControlChange(tick=tick(c.time), number=int(c.number), value=int(c.value))
                    for c in inst.control_changes]
        bends = [core.PitchBend(tick=tick(b.time), value=int(b.pitch)) for b in inst.pitch_bends]
        tracks.append(core.Track(name=inst.name, program=int(inst.program),
                                 is_drum=bool(inst.is_drum), notes=notes, controls=controls,
                                 pitch_bends=bends))
    score = core.Score(ticks_per_quarter=int(pm.resolution), tempos=tempos,
                       time_signatures=time_signatures, key_signatures=key_signatures,
                       tracks=tracks)
    score.sort()
    return score
