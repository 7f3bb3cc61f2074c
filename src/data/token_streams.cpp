// Token streams and the segment batcher (see token_streams.hpp for the layout).
#include "partita/data/token_streams.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"

namespace partita::data {

namespace {
std::int64_t targets_of(const std::vector<std::int32_t>& piece) {
  return std::max<std::int64_t>(0, static_cast<std::int64_t>(piece.size()) - 1);
}
}  // namespace

std::int64_t TokenStreams::total_tokens() const {
  std::int64_t n = 0;
  for (const auto& p : pieces) n += static_cast<std::int64_t>(p.size());
  return n;
}

std::int64_t TokenStreams::total_targets() const {
  std::int64_t n = 0;
  for (const auto& p : pieces) n += targets_of(p);
  return n;
}

TokenBatch TokenBatch::row(const std::vector<std::int32_t>& tokens) {
  TokenBatch b;
  b.batch = 1;
  b.time = static_cast<std::int64_t>(tokens.size());
  b.ids = tokens;
  return b;
}

SegmentBatcher::SegmentBatcher(const TokenStreams& streams, std::int64_t batch, std::int64_t segment,
                               std::int32_t pad)
    : streams_(streams), batch_(batch), segment_(segment), pad_(pad) {
  if (batch < 1 || segment < 1)
    throw InvalidArgument("SegmentBatcher: batch and segment must be >= 1, got " + std::to_string(batch) + " and " +
                          std::to_string(segment));
  in_order();
}

void SegmentBatcher::in_order() {
  std::vector<std::int64_t> order(static_cast<std::size_t>(streams_.size()));
  std::iota(order.begin(), order.end(), 0);
  lay_out(order);
}

void SegmentBatcher::shuffle(std::uint64_t seed) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(streams_.size()));
  std::iota(order.begin(), order.end(), 0);
  Generator g(seed);
  for (std::int64_t i = static_cast<std::int64_t>(order.size()) - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(g.below(i + 1))]);
  lay_out(order);
}

void SegmentBatcher::lay_out(const std::vector<std::int64_t>& order) {
  // Each piece goes to the row that is free first; a row's pieces follow each other
  // without a gap, so the row is busy from step 0 to its end.
  std::vector<std::int64_t> row_end(static_cast<std::size_t>(batch_), 0);
  struct Run {
    std::int64_t row, first_step, segments;
    std::int32_t piece;
  };
  std::vector<Run> runs;
  for (std::int64_t p : order) {
    const std::int64_t n = (targets_of(streams_.pieces[static_cast<std::size_t>(p)]) + segment_ - 1) / segment_;
    if (n == 0) continue;
    const auto it = std::min_element(row_end.begin(), row_end.end());
    const std::int64_t row = it - row_end.begin();
    runs.push_back({row, *it, n, static_cast<std::int32_t>(p)});
    *it += n;
  }
  steps_ = *std::max_element(row_end.begin(), row_end.end());
  const std::size_t cells = static_cast<std::size_t>(steps_ * batch_);
  cell_piece_.assign(cells, -1);
  cell_segment_.assign(cells, -1);
  for (const Run& r : runs)
    for (std::int64_t k = 0; k < r.segments; ++k) {
      const std::size_t c = static_cast<std::size_t>((r.first_step + k) * batch_ + r.row);
      cell_piece_[c] = r.piece;
      cell_segment_[c] = k;
    }
}

void SegmentBatcher::batch(std::int64_t step, SegmentBatch& out) const {
  if (step < 0 || step >= steps_)
    throw InvalidArgument("SegmentBatcher::batch: step " + std::to_string(step) + " outside the epoch's 0.." +
                          std::to_string(steps_ - 1));
  const std::int64_t S = segment_;
  out.inputs = TokenBatch(batch_, S, pad_);
  out.targets = TokenBatch(batch_, S, pad_);
  out.new_piece.assign(static_cast<std::size_t>(batch_), 1);
  out.piece.assign(static_cast<std::size_t>(batch_), -1);
  out.target_count = 0;
  for (std::int64_t b = 0; b < batch_; ++b) {
    const std::size_t c = static_cast<std::size_t>(step * batch_ + b);
    const std::int32_t p = cell_piece_[c];
    if (p < 0) continue;
    const std::vector<std::int32_t>& tok = streams_.pieces[static_cast<std::size_t>(p)];
    const std::int64_t L = static_cast<std::int64_t>(tok.size()), k = cell_segment_[c], from = k * S;
    out.new_piece[static_cast<std::size_t>(b)] = k == 0 ? 1 : 0;
    out.piece[static_cast<std::size_t>(b)] = p;
    for (std::int64_t t = 0; t < S && from + t < L; ++t) {
      out.inputs.at(b, t) = tok[static_cast<std::size_t>(from + t)];
      if (from + t + 1 < L) {
        out.targets.at(b, t) = tok[static_cast<std::size_t>(from + t + 1)];
        if (out.targets.at(b, t) != pad_) ++out.target_count;
      }
    }
  }
}

}  // namespace partita::data
