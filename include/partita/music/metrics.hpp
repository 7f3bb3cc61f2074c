// Music metrics on piano rolls: the objective measures used to judge generated
// music, shared by every partita model (the AR-CNN's edits, the GAN, the
// Transformer-XL).
//
// Three families, each with its published source:
//  - MuseGAN (Dong, Hsiao, Yang & Yang, AAAI 2018): empty-bar rate, used pitch
//    classes per bar, qualified-note rate, tonal distance (Harte, Sandler &
//    Gasser 2006), in-scale rate.
//  - muspy's metrics (Dong, Chen, Dubnov, McAuley & Berg-Kirkpatrick, ISMIR
//    2020; muspy.metrics): pitch-class entropy, scale consistency, polyphony,
//    polyphony rate, pitch range, empty-beat rate, groove consistency.
//  - Fragments: the share of one-step notes, overall and among the notes an
//    edit added (the AR-CNN's typical artefact).
//
// Notes of a roll. On every pitch a maximal run of non-zero cells is one note;
// with an onset channel a non-zero onset inside a run starts a new note (the
// rule of from_pianoroll). A MultiTrackRoll is measured, where a metric takes
// one roll, on merged() without drum tracks (muspy ignores drums too); the
// per-track MuseGAN measures give one value per track.
//
// Undefined values (no notes, no steps) are NaN, as in muspy; bad arguments
// throw InvalidArgument, mismatched shapes ShapeError.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "partita/music/pianoroll.hpp"

namespace partita {

/// One note of a roll: pitch, first step, length in steps (>= 1).
struct RollNote {
  int pitch = 0;
  std::int64_t start = 0;
  std::int64_t steps = 1;
};

/// The notes of `roll` (see above), sorted by (start, pitch).
std::vector<RollNote> roll_notes(const PianoRoll& roll);

// ---- MuseGAN (Dong et al., AAAI 2018) -------------------------------------

/// EB: (bars with no on-cell) / bars; bars = ceil(steps / bar_steps), a last
/// partial bar counts. NaN for a 0-step roll. `bar_steps` <= 0: the roll's grid.
double empty_bar_rate(const PianoRoll& roll, std::int64_t bar_steps = 0);
/// EB of each track of `roll` (drums included).
std::vector<double> empty_bar_rate(const MultiTrackRoll& roll, std::int64_t bar_steps = 0);

/// UPC: number of distinct pitch classes with an on-cell in a bar, averaged
/// over the non-empty bars (0..12). NaN when every bar is empty.
double used_pitch_classes(const PianoRoll& roll, std::int64_t bar_steps = 0);
std::vector<double> used_pitch_classes(const MultiTrackRoll& roll, std::int64_t bar_steps = 0);

/// QN: (notes at least `min_steps` long) / notes; MuseGAN uses 3 steps (a 32nd
/// note at its 24 steps per quarter). NaN without notes.
double qualified_note_rate(const PianoRoll& roll, std::int64_t min_steps = 3);
std::vector<double> qualified_note_rate(const MultiTrackRoll& roll, std::int64_t min_steps = 3);

/// Harte, Sandler & Gasser (2006) tonal centroid of a 12-bin chroma c:
/// zeta_d = sum_l Phi(d, l) c_l / sum_l c_l with Phi's rows r sin/cos(l a) for
/// (r, a) = (1, 7pi/6) fifths, (1, 3pi/2) minor thirds, (0.5, 2pi/3) major thirds.
/// All zeros for an all-zero chroma.
std::array<double, 6> tonal_centroid(const std::array<double, 12>& chroma);

/// TD: the roll is cut into frames of `frame_steps` steps (<= 0: one beat, the
/// grid's resolution); each frame's chroma counts the on-cells per pitch class;
/// TD = mean over frames where both rolls sound of |zeta(a) - zeta(b)|_2.
/// NaN when no frame has notes in both. ShapeError when the lengths differ.
double tonal_distance(const PianoRoll& a, const PianoRoll& b, std::int64_t frame_steps = 0);
/// TD of every pair of tracks i < j, in the order (0,1), (0,2), ..., (1,2), ...
/// (drum tracks included: the caller chooses the pairs that make sense).
std::vector<double> tonal_distance(const MultiTrackRoll& roll, std::int64_t frame_steps = 0);

/// In-scale rate: (on-cells whose pitch class is in the major scale of
/// `root`) / on-cells. MuseGAN measures it against C major; here `root` 0..11
/// names the scale and std::nullopt takes the best-fitting major scale
/// (the largest rate over the 12 roots). NaN without on-cells.
struct InScale {
  double rate = 0.0;
  int root = 0;  // the major scale's tonic pitch class (0 = C)
};
InScale in_scale_rate(const PianoRoll& roll, std::optional<int> root = std::nullopt);

// ---- muspy.metrics ----------------------------------------------------------

/// Shannon entropy (bits) of the pitch-class histogram of the notes (each note
/// counts once, whatever its length). NaN without notes.
double pitch_class_entropy(const PianoRoll& roll);
/// max over the 24 major and natural-minor scales of (notes in scale) / notes
/// (Mogren 2016, C-RNN-GAN). NaN without notes.
double scale_consistency(const PianoRoll& roll);
/// sum of on-cells / steps with at least one on-cell. NaN when all silent.
double polyphony(const PianoRoll& roll);
/// (steps with more than `threshold` on-cells) / steps; MuseGAN's
/// "polyphonicity" with threshold 2 (muspy's default). NaN for 0 steps.
double polyphony_rate(const PianoRoll& roll, int threshold = 2);
/// highest minus lowest note pitch; 0 without notes.
int pitch_range(const PianoRoll& roll);
/// (beats with no on-cell) / beats, beats = ceil(steps / resolution) (Dong et
/// al., Pypianoroll, ISMIR LBD 2018). NaN for 0 steps. (muspy counts
/// end // resolution + 1 beats and marks the beat where a note ends as sounding.)
double empty_beat_rate(const PianoRoll& roll);
/// 1 - mean over neighbouring bars of hamming(G_i, G_{i+1}) / bar_steps, G_i the
/// bar's onset vector (a note starts at that position, any pitch) (Wu & Yang,
/// ISMIR 2020). Bars = ceil(steps / bar_steps). NaN with fewer than two bars.
double groove_consistency(const PianoRoll& roll, std::int64_t bar_steps = 0);

// ---- Fragments ----------------------------------------------------------------

/// One-step notes, overall and among the notes an edit added. A note is added
/// when the original has no note of the same pitch starting at the same step.
struct FragmentStats {
  std::int64_t notes = 0;           // notes of the roll
  std::int64_t one_step = 0;        // of which exactly one step long
  std::int64_t added = 0;           // notes not in the original (0 without one)
  std::int64_t added_one_step = 0;  // of which one step long
  double share() const;             // one_step / notes (NaN without notes)
  double added_share() const;       // added_one_step / added (NaN without added notes)
};
FragmentStats fragment_stats(const PianoRoll& roll);
/// With `original` of any length (notes are matched by pitch and onset step).
FragmentStats fragment_stats(const PianoRoll& edited, const PianoRoll& original);

// ---- All at once ----------------------------------------------------------------

/// Every single-roll metric above with its default settings (bar and beat from
/// the roll's grid, QN at 3 steps, polyphony rate above 2 pitches, in-scale
/// rate against the best-fitting major scale), and the fragment counts against
/// `original` when given.
struct RollMetrics {
  double empty_bar_rate = 0.0;
  double used_pitch_classes = 0.0;
  double qualified_note_rate = 0.0;
  InScale in_scale;
  double pitch_class_entropy = 0.0;
  double scale_consistency = 0.0;
  double polyphony = 0.0;
  double polyphony_rate = 0.0;
  int pitch_range = 0;
  double empty_beat_rate = 0.0;
  double groove_consistency = 0.0;
  FragmentStats fragments;
};
RollMetrics roll_metrics(const PianoRoll& roll, const PianoRoll* original = nullptr);

}  // namespace partita
