// Standard MIDI File (SMF) reading and writing for partita::Score.
//
// Reading accepts formats 0, 1 and 2 and is tolerant the way widely used
// readers are, while every input that cannot be recovered raises a MidiError
// carrying the byte offset and the problem. What the reader does:
//
// * Division: ticks per quarter note, or SMPTE (frames per second x ticks per
//   frame). SMPTE time is absolute, so it is mapped onto a tick grid that keeps
//   every tick as it is: ticks_per_quarter = nominal fps x ticks per frame and a
//   single tempo of 60 qpm (one quarter = one second); for 29.97 drop-frame the
//   tempo is 60 x 29.97 / 30 qpm. Tempo events in SMPTE files are ignored.
// * Events: running status (also where files keep using it after a meta or
//   sysex event, which the standard forbids but real files do), sysex F0/F7
//   (skipped), system common messages (skipped), variable-length quantities of
//   at most 4 bytes.
// * Kept: tempo, time signature and key signature (from every track, merged;
//   pretty_midi reads them from track 0 only), track name, program change,
//   control change, pitch bend. Format 2 tracks are read like format 1 tracks
//   (parallel, one tempo map), as mido and pretty_midi do.
// * Notes are paired the way pretty_midi does it, so note lists compare 1:1:
//   a note-on with velocity 0 is a note-off; a note-off closes every open note
//   of its (channel, pitch) that started at an earlier tick (several overlapping
//   notes of one pitch end together: pretty_midi is not FIFO here) and leaves
//   open a note that started at the same tick, unless nothing else was closed,
//   in which case that zero-length note is dropped; note-offs with no note-on
//   are ignored. Unlike pretty_midi, notes still open at the end of a track are
//   closed at the track's end instead of being dropped.
// * A MIDI track that uses several channels or programs becomes one partita
//   Track per (channel, program), in the order pretty_midi creates its
//   instruments (first note-off); a note takes the channel's program current at
//   its note-off (as pretty_midi). Channel 10 (index 9) is drums. Control
//   changes and pitch bends that come before any note of their channel go to
//   the first Track created for that channel (or to a note-less Track of their
//   own; pretty_midi shares them among all of the channel's instruments); a MIDI track with a program change but no notes still gives one
//   empty Track, so empty tracks survive a round trip. Track names are UTF-8: names
//   that are not valid UTF-8 are read as Latin-1 (as mido does).
// * Damaged structure: a track chunk whose declared length runs past the end
//   of the file is read up to the end; one whose declared length is shorter
//   than its events (the end-of-track event lies beyond it, and no "MTrk"
//   follows) is read on to its end-of-track event; a missing end-of-track ends
//   the track at its last event; an event cut off by the end of the data is
//   dropped; unknown chunks are skipped; bytes after the last track are
//   ignored; a RIFF "RMID" wrapper is unpacked.
// * Limits (the MidiError message states them): at most kMidiMaxFileBytes
//   bytes, kMidiMaxTracks track chunks and Score tracks, kMidiMaxEvents
//   events; track names are cut to kMidiMaxNameBytes. Memory stays within a
//   small multiple of the event count (no event is copied into several Tracks).
//
// Writing produces format 1: track 0 holds the tempo map, time and key
// signatures; then one track per partita Track with its name, its program
// change at tick 0, its control changes, pitch bends and notes. Channels: drums
// on 9; other tracks keep Track::channel when it is a valid non-drum channel,
// else they get the next channel in 0..15 skipping 9. Notes with end <= start
// are not written (a MIDI note needs a positive length). Files are written
// atomically (temporary file + rename).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "partita/music/score.hpp"

namespace partita {

/// Largest MIDI file read_midi / read_midi_bytes accept.
constexpr std::size_t kMidiMaxFileBytes = std::size_t(64) << 20;
/// Largest number of track chunks read, and of Tracks in the Score.
constexpr std::size_t kMidiMaxTracks = 65535;
/// Track names longer than this many bytes are cut (at a UTF-8 character boundary).
constexpr std::size_t kMidiMaxNameBytes = 1024;
/// Largest number of events (all tracks together) read.
constexpr std::size_t kMidiMaxEvents = 16'000'000;

/// Reads a Standard MIDI File. Throws IoError (cannot open/read, too large)
/// or MidiError (malformed, with the byte offset).
Score read_midi(const std::string& path);

/// Reads a Standard MIDI File from memory; `name` appears in error messages.
Score read_midi_bytes(const std::uint8_t* data, std::size_t size,
                      const std::string& name = "<bytes>");

/// Encodes `score` as a format-1 Standard MIDI File. Throws InvalidArgument
/// for values MIDI cannot hold (pitch, velocity, program, ticks_per_quarter...).
std::vector<std::uint8_t> write_midi_bytes(const Score& score);

/// Writes `score` to `path` atomically. Throws InvalidArgument or IoError.
void write_midi(const Score& score, const std::string& path);

}  // namespace partita
