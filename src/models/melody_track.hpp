// Private: the melody a model reads from a Score (the AR-CNN's edit, the GAN's
// accompaniment): which track, and that track on partita's 16th-note grid.
#pragma once
#include <cstdint>

#include "partita/music/pianoroll.hpp"
#include <vector>

#include "partita/music/score.hpp"

namespace partita::models {

/// `track` of `score` checked (in range, has notes, not drums), or for -1 the first
/// non-drum track with notes. InvalidArgument naming `who` otherwise.
int choose_melody_track(const Score& score, int track, const char* who);

/// That track as a binary roll at resolution 4 (to_pianoroll's rule), its length
/// rounded up to a whole quarter (at least one). InvalidArgument when the ticks per
/// quarter are not positive or the track lasts more than `max_steps` 16ths (checked
/// before anything is allocated: a stray note far out in a damaged file would
/// otherwise ask for billions of steps).
PianoRoll melody_roll(const Score& score, int track, std::int64_t max_steps, const char* who);

/// The top line of a roll: the highest sounding pitch of each step, -1 where silent.
std::vector<int> top_line(const PianoRoll& roll);

}  // namespace partita::models
