// Measuring accompaniment against real music: every held-out piece's melody is
// accompanied, and the generated parts are measured beside the piece's real
// parts with partita's metrics (music/metrics.hpp), part by part.
//
// Per part and piece: MuseGAN's empty-bar rate, used pitch classes per bar,
// qualified-note rate (notes of 3+ 16ths); muspy's pitch-class entropy, scale
// consistency, polyphony, pitch range, empty-beat rate, groove consistency; the
// tonal distance (Harte et al. 2006) to the melody. Each is averaged over the
// pieces where it is defined. Consonance with the melody is pooled over all
// pieces: among the steps where the part and the melody both sound, the share
// of the part's sounding cells whose interval to the melody's top note is a
// consonance (unison/octave, minor and major thirds and sixths, perfect fourth
// and fifth: interval classes 0, 3, 4, 5, 7, 8, 9 semitones).
//
// Two baselines give the figures a scale: the same generator before training
// (any GAN), and random notes in the key (random_in_key_parts).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "partita/models/gan.hpp"
#include "partita/music/pianoroll.hpp"

namespace partita::models {

struct PartMetrics {
  std::string part;
  double empty_bar_rate = 0.0;
  double used_pitch_classes = 0.0;
  double qualified_note_rate = 0.0;
  double pitch_class_entropy = 0.0;
  double scale_consistency = 0.0;
  double polyphony = 0.0;
  double pitch_range = 0.0;
  double empty_beat_rate = 0.0;
  double groove_consistency = 0.0;
  double tonal_distance_to_melody = 0.0;
  double consonance = 0.0;
  std::int64_t notes = 0;  // over all pieces

  /// The metrics by name, in the order above (for tables): {"empty_bar_rate", v}, ...
  std::vector<std::pair<std::string, double>> values() const;
};

/// Parts for a piece: (melody roll, piece index) -> a roll of parts (track k is part k),
/// the melody's length.
using Accompanist = std::function<MultiTrackRoll(const PianoRoll& melody, std::size_t piece)>;

/// Measure the parts `accompanist` gives for every piece's melody (track 0 of each
/// piece, resolution 4). `names` names the parts (its size is the part count).
/// InvalidArgument when pieces is empty or a piece has other than names.size() + 1
/// tracks; ShapeError when the accompanist returns a roll of another shape.
std::vector<PartMetrics> measure_parts(const std::vector<MultiTrackRoll>& pieces, const Accompanist& accompanist,
                                       const std::vector<std::string>& names);

/// The pieces' own parts (tracks 1..), as an Accompanist.
Accompanist real_parts(const std::vector<MultiTrackRoll>& pieces);
/// The GAN's parts (accompany_roll with `options`, seed + piece index).
Accompanist gan_parts(GAN& gan, const AccompanyOptions& options = {});
/// Random notes in the melody's key (the best-fitting major scale of the
/// melody), each part in the pitch range its real counterpart spans in that
/// piece, note lengths drawn from the real parts' lengths (1..16 steps); seeded.
Accompanist random_in_key_parts(const std::vector<MultiTrackRoll>& pieces, std::uint64_t seed);

/// The interval classes counted as consonances (see the top of this file).
bool consonant_interval(int semitones);

}  // namespace partita::models
