#!/usr/bin/env python3
"""Writes the fuzzer's seed corpus into tests/data/midi/seed: the five sample
melodies plus small hand-made files for each tolerance rule of the reader
(running status after meta/sysex, SMPTE, overlapping notes, wrong chunk
lengths, missing end-of-track, unknown chunks, RIFF wrapper, ...)."""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SEED = os.path.join(HERE, "seed")
EOT = bytes([0x00, 0xFF, 0x2F, 0x00])


def header(fmt, ntracks, division):
    return b"MThd" + struct.pack(">IHHH", 6, fmt, ntracks, division)


def track(events, declared=None):
    return b"MTrk" + struct.pack(">I", len(events) if declared is None else declared) + events


SIMPLE = bytes([0x00, 0x90, 60, 100, 0x60, 0x80, 60, 0]) + EOT
CASES = {
    "all_events_format0": header(0, 1, 96) + track(bytes([
        0x00, 0xFF, 0x03, 5]) + b"Piano" + bytes([
        0x00, 0xFF, 0x51, 3, 0x07, 0xA1, 0x20, 0x00, 0xFF, 0x58, 4, 3, 3, 24, 8,
        0x00, 0xFF, 0x59, 2, 0xFE, 1, 0x00, 0xC0, 41, 0x00, 0xB0, 7, 100, 0x00, 0x90, 60, 90,
        0x60, 0xE0, 0x00, 0x50, 0x60, 0x80, 60, 0]) + EOT),
    "format1_three_tracks": header(1, 3, 480) + track(bytes([0x00, 0xFF, 0x51, 3, 0x09, 0x27, 0xC0]) + EOT)
    + track(SIMPLE) + track(bytes([0x00, 0x99, 36, 100, 0x10, 0x89, 36, 0]) + EOT),
    "format2": header(2, 2, 96) + track(SIMPLE) + track(SIMPLE),
    "smpte_25fps": header(0, 1, (0xE7 << 8) | 40) + track(SIMPLE),
    "smpte_2997": header(0, 1, (0xE3 << 8) | 80) + track(SIMPLE),
    "running_status_after_meta_sysex": header(0, 1, 96) + track(bytes([
        0x00, 0x90, 60, 100, 0x00, 62, 100, 0x00, 0xFF, 0x01, 2, ord("h"), ord("i"), 0x10, 60, 0,
        0x00, 0xF0, 3, 0x7E, 0x7F, 0xF7, 0x00, 62, 0, 0x00, 0xF7, 2, 1, 2, 0x00, 64, 50, 0x08, 64, 0]) + EOT),
    "overlapping_notes": header(0, 1, 96) + track(bytes([
        0x00, 0x90, 60, 10, 0x10, 0x90, 60, 20, 0x10, 0x80, 60, 0, 0x10, 0x80, 60, 0,
        0x00, 0x90, 65, 60, 0x10, 0x90, 65, 70, 0x00, 0x80, 65, 0, 0x10, 0x80, 65, 0]) + EOT),
    "open_notes_at_end": header(0, 1, 96) + track(bytes([0x00, 0x90, 60, 100, 0x10, 0x90, 62, 100]) + EOT),
    "multi_channel_program": header(0, 1, 96) + track(bytes([
        0x00, 0xC1, 40, 0x00, 0xB1, 10, 64, 0x00, 0x90, 60, 100, 0x00, 0x91, 67, 100, 0x00, 0x99, 36, 100,
        0x10, 0x80, 60, 0, 0x00, 0x81, 67, 0, 0x00, 0x89, 36, 0, 0x00, 0xC0, 19,
        0x00, 0x90, 61, 100, 0x10, 0x80, 61, 0]) + EOT),
    "declared_too_long": header(0, 1, 96) + track(SIMPLE, 100000),
    "declared_too_short": header(1, 2, 96) + track(SIMPLE + SIMPLE[:-4], 6) + track(SIMPLE),
    "missing_eot": header(1, 2, 96) + track(SIMPLE[:-4]) + track(SIMPLE[:-4]),
    "unknown_chunk_trailing": header(1, 1, 96) + b"XFIH\x00\x00\x00\x03abc" + track(SIMPLE) + b"\x00\x13\x37junk",
    "riff_rmid": (lambda smf: b"RIFF" + struct.pack("<I", len(smf) + 12) + b"RMIDdata"
                  + struct.pack("<I", len(smf)) + smf)(header(0, 1, 96) + track(SIMPLE)),
    "latin1_name": header(0, 1, 96) + track(bytes([0x00, 0xFF, 0x03, 4]) + b"Caf\xe9" + SIMPLE),
    "vlq_4_bytes": header(0, 1, 96) + track(bytes([0x00, 0x90, 60, 100, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0]) + EOT),
    "empty_program_track": header(1, 1, 96) + track(bytes([0x00, 0xC5, 73]) + EOT),
}


def main():
    os.makedirs(SEED, exist_ok=True)
    for name in sorted(os.listdir(os.path.join(ROOT, "data", "melodies"))):
        if name.endswith(".mid"):
            shutil.copy(os.path.join(ROOT, "data", "melodies", name), os.path.join(SEED, "melody_" + name))
    for name, data in CASES.items():
        with open(os.path.join(SEED, name + ".mid"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
