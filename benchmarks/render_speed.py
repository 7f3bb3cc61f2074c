#!/usr/bin/env python3
"""Rendering speed of partita.Synth as a multiple of real time.

The score is the same as benchmarks/bench_render.cpp: JSB chorales from
data/jsb-chorales (test split) until about --seconds of music, the four voices
as four tracks with different programs (piano, flute, viola, cello), 100 qpm.
With --midi FILE the file's first track is layered onto four tracks with those
programs instead. Prints wall-clock and CPU "x real time" (best of --repeat).

    PYTHONPATH=python python3 benchmarks/render_speed.py [--threads N]
"""
import argparse
import json
import os
import time

import partita

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = (0, 73, 41, 42)  # Acoustic Grand Piano, Flute, Viola, Cello
NAMES = ("soprano", "alto", "tenor", "bass")


def chorale_score(seconds: float) -> partita.Score:
    with open(os.path.join(REPO, "data", "jsb-chorales", "Jsb16thSeparated.json")) as f:
        chorales = json.load(f)["test"]
    score = partita.Score(ticks_per_quarter=480, tempos=[partita.TempoChange(tick=0, qpm=100.0)])
    voices = [[] for _ in range(4)]
    offset = 0
    for chorale in chorales:
        if score.seconds(offset) >= seconds:
            break
        for v in range(4):
            held, start = -1, 0
            for s in range(len(chorale) + 1):
                p = chorale[s][v] if s < len(chorale) and v < len(chorale[s]) else -1
                tick = offset + s * 120  # a 16th note = 120 ticks
                if p != held:
                    if held >= 0:
                        voices[v].append(partita.Note(pitch=int(held), velocity=90, start=start, end=tick))
                    held, start = p, tick
        offset += len(chorale) * 120 + 480
    score.tracks = [partita.Track(name=NAMES[v], program=PROGRAMS[v], notes=voices[v]) for v in range(4)]
    return score


def layered_score(path: str) -> partita.Score:
    score = partita.read_midi(path)
    notes = score.tracks[0].notes
    score.tracks = [partita.Track(name=NAMES[v], program=PROGRAMS[v], notes=notes) for v in range(4)]
    return score


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="music length (chorale score)")
    ap.add_argument("--midi", help="layer this file's first track onto four tracks instead")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="partita threads (default: all cores)")
    ap.add_argument("--soundfont", default=None)
    args = ap.parse_args()
    if args.threads:
        partita.set_num_threads(args.threads)
    score = layered_score(args.midi) if args.midi else chorale_score(args.seconds)
    t0 = time.perf_counter()
    synth = partita.Synth(soundfont=args.soundfont)
    load = time.perf_counter() - t0
    synth.render(score)  # warm up (page in the samples)
    best_wall = best_cpu = float("inf")
    for _ in range(args.repeat):
        w, c = time.perf_counter(), time.process_time()
        audio = synth.render(score)
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    audio_s = audio.shape[0] / synth.sample_rate
    print(f"soundfont {synth.soundfont} (loaded in {load:.2f} s), {partita.num_threads()} thread(s)")
    print(f"score: {len(score.tracks)} tracks, {score.note_count} notes, {audio_s:.1f} s of audio")
    print(f"render: {best_wall * 1000:.0f} ms wall, {best_cpu * 1000:.0f} ms CPU (all threads)")
    print(f"{audio_s / best_wall:.0f}x real time (wall clock)")
    print(f"{audio_s / best_cpu:.0f}x real time per CPU second")


if __name__ == "__main__":
    main()
