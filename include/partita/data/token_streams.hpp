// Token streams and the segment batcher of a memory-carrying language model.
//
// A Transformer-XL reads a piece as consecutive segments of `segment` tokens and
// carries each segment's hidden states into the next as memory. Training on a
// batch therefore keeps every batch row on one piece at a time: row b walks its
// piece's segments in order, step after step, and moves to the next piece when
// its piece ends (the row's memory must then be cleared, which SegmentBatch says).
//
// A piece of L tokens t[0..L-1] has L - 1 next-token targets and takes
// ceil((L - 1) / segment) segments; segment k has inputs t[k S .. k S + S - 1] and
// targets t[k S + 1 .. k S + S] (S = segment), padded with <PAD> past the piece's
// end (the loss ignores <PAD> targets; a padded input only precedes padded targets
// and is never attended by a later real token, since the row's memory is cleared
// before its next piece). Pieces of fewer than two tokens have no targets and are
// skipped.
//
// An epoch lays out all pieces in a given order: each piece goes to the row that
// becomes free first (ties: the lowest row), so every row is busy from step 0
// until its last piece ends, and the epoch lasts until the busiest row is done.
// Rows that finish earlier idle on all-<PAD> segments (no targets). The layout
// depends on the order alone, so a shuffle seed reproduces an epoch exactly.
#pragma once
#include <cstdint>
#include <vector>

namespace partita::data {

/// Token-id sequences, one per piece (e.g. performance events, music/events.hpp,
/// each beginning with <S> when the model is to be primed with one).
struct TokenStreams {
  std::vector<std::vector<std::int32_t>> pieces;

  std::int64_t size() const { return static_cast<std::int64_t>(pieces.size()); }
  /// Tokens over all pieces.
  std::int64_t total_tokens() const;
  /// Next-token targets over all pieces (sum of max(0, length - 1)).
  std::int64_t total_targets() const;
};

/// A (batch, time) block of token ids, row-major.
struct TokenBatch {
  std::int64_t batch = 0;
  std::int64_t time = 0;
  std::vector<std::int32_t> ids;  // batch * time

  TokenBatch() = default;
  TokenBatch(std::int64_t batch_, std::int64_t time_, std::int32_t fill = 0)
      : batch(batch_), time(time_), ids(static_cast<std::size_t>(batch_ * time_), fill) {}
  std::int32_t& at(std::int64_t b, std::int64_t t) { return ids[static_cast<std::size_t>(b * time + t)]; }
  std::int32_t at(std::int64_t b, std::int64_t t) const { return ids[static_cast<std::size_t>(b * time + t)]; }
  /// One sequence as a batch of one row.
  static TokenBatch row(const std::vector<std::int32_t>& tokens);
};

/// One step of a SegmentBatcher.
struct SegmentBatch {
  TokenBatch inputs;                    // (batch, segment)
  TokenBatch targets;                   // (batch, segment), <PAD> where there is none
  std::vector<std::uint8_t> new_piece;  // per row: 1 if the row starts a piece (or idles): clear its memory
  std::vector<std::int32_t> piece;      // per row: the piece index, -1 when idle
  std::int64_t target_count = 0;        // targets that are not <PAD>
};

class SegmentBatcher {
 public:
  /// InvalidArgument if batch or segment < 1. `streams` must outlive the batcher.
  SegmentBatcher(const TokenStreams& streams, std::int64_t batch, std::int64_t segment, std::int32_t pad = 1);

  /// Lay out an epoch with the pieces in their stored order.
  void in_order();
  /// Lay out an epoch with the pieces in a random order drawn from `seed`.
  void shuffle(std::uint64_t seed);

  /// Steps of the current epoch (0 when no piece has a target).
  std::int64_t steps() const { return steps_; }
  std::int64_t batch_size() const { return batch_; }
  std::int64_t segment() const { return segment_; }

  /// Step `step` (0 <= step < steps()) of the current epoch; InvalidArgument otherwise.
  void batch(std::int64_t step, SegmentBatch& out) const;

 private:
  void lay_out(const std::vector<std::int64_t>& order);

  const TokenStreams& streams_;
  std::int64_t batch_, segment_;
  std::int32_t pad_;
  std::int64_t steps_ = 0;
  // Per (step, row): the piece and its segment index, -1 when idle.
  std::vector<std::int32_t> cell_piece_;
  std::vector<std::int64_t> cell_segment_;
};

}  // namespace partita::data
