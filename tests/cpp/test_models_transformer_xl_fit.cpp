// Transformer-XL training: the segment batcher (rows stay on a piece's consecutive
// segments, every target once per epoch, memory cleared where a row changes piece),
// TransformerXL::fit on the shared loop (it learns a pattern that needs the memory,
// the schedule and clipping are applied, validation is NLL per token) and an exact
// resume from a checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <unistd.h>

#include "partita/core/error.hpp"
#include "partita/core/threads.hpp"
#include "partita/data/token_streams.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/optim/schedule.hpp"

namespace fs = std::filesystem;
using namespace partita;
using namespace partita::models;
using data::SegmentBatch;
using data::SegmentBatcher;
using data::TokenStreams;

// One thread: the suite runs many test programs side by side on few cores.
static const int kOneThread = (set_num_threads(1), 1);

namespace {

// Piece p: <S>, then tokens 2 + (p + 3 k) mod 7 for k = 1 .. length-1 (a ramp the
// model can learn; the piece's offset is only known from its earlier tokens).
TokenStreams ramps(int pieces, int length, int first = 0) {
  TokenStreams s;
  for (int p = first; p < first + pieces; ++p) {
    std::vector<std::int32_t> t{0};
    for (int k = 1; k < length + (p % 3); ++k) t.push_back(2 + (p + 3 * k) % 7);
    s.pieces.push_back(t);
  }
  return s;
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("partita_txl_fit_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

TransformerXLConfig tiny() {
  TransformerXLConfig c = TransformerXLConfig::small();
  c.vocab = 16;
  c.d_model = 16;
  c.heads = 2;
  c.d_head = 8;
  c.d_inner = 32;
  c.segment = 6;
  c.memory = 12;
  return c;
}

}  // namespace

TEST(SegmentBatcher, RowsWalkPiecesInOrderAndCoverEveryTargetOnce) {
  TokenStreams s;
  const int lengths[] = {1, 2, 9, 17, 30, 5, 0, 13};
  for (int p = 0; p < 8; ++p) {
    std::vector<std::int32_t> t;
    for (int k = 0; k < lengths[p]; ++k) t.push_back(100 * p + k + 2);
    s.pieces.push_back(t);
  }
  EXPECT_EQ(s.total_tokens(), 77);
  EXPECT_EQ(s.total_targets(), 0 + 1 + 8 + 16 + 29 + 4 + 0 + 12);
  SegmentBatcher sb(s, 3, 4);
  // Segments per piece: 0, 1, 2, 4, 8, 1, 0, 3. Each goes to the row free first:
  // row 0 takes pieces 1 and 4 (1 + 8), row 1 pieces 2, 5 and 7 (2 + 1 + 3), row 2 piece 3 (4).
  std::int64_t targets = 0;
  std::map<int, std::int64_t> next_offset;  // piece -> next expected input position
  std::vector<int> row_piece(3, -1);
  for (std::int64_t step = 0; step < sb.steps(); ++step) {
    SegmentBatch b;
    sb.batch(step, b);
    targets += b.target_count;
    for (std::int64_t r = 0; r < 3; ++r) {
      const int p = b.piece[static_cast<std::size_t>(r)];
      if (p < 0) {  // idle: nothing to learn, memory cleared
        EXPECT_EQ(b.new_piece[static_cast<std::size_t>(r)], 1);
        for (std::int64_t t = 0; t < 4; ++t) EXPECT_EQ(b.targets.at(r, t), 1);
        row_piece[static_cast<std::size_t>(r)] = -2;
        continue;
      }
      EXPECT_NE(row_piece[static_cast<std::size_t>(r)], -2) << "a row idles only at the end";
      const bool starts = p != row_piece[static_cast<std::size_t>(r)];
      EXPECT_EQ(b.new_piece[static_cast<std::size_t>(r)], starts ? 1 : 0);
      if (starts) {
        EXPECT_EQ(next_offset.count(p), 0u) << "piece " << p << " is walked once, by one row";
      }
      row_piece[static_cast<std::size_t>(r)] = p;
      const std::int64_t from = next_offset[p];
      for (std::int64_t t = 0; t < 4; ++t) {
        const std::int64_t pos = from + t;
        EXPECT_EQ(b.inputs.at(r, t), pos < lengths[p] ? 100 * p + pos + 2 : 1);
        EXPECT_EQ(b.targets.at(r, t), pos + 1 < lengths[p] ? 100 * p + pos + 3 : 1);
      }
      next_offset[p] = from + 4;
    }
  }
  EXPECT_EQ(sb.steps(), 9);
  EXPECT_EQ(targets, s.total_targets());
  EXPECT_EQ(next_offset.size(), 6u);  // the pieces without targets are skipped

  // Orders: reproducible per seed.
  auto first_pieces = [&](std::uint64_t seed) {
    sb.shuffle(seed);
    SegmentBatch b;
    sb.batch(0, b);
    return b.piece;
  };
  EXPECT_EQ(first_pieces(4), first_pieces(4));
  std::set<std::vector<std::int32_t>> seen;
  for (std::uint64_t seed = 0; seed < 8; ++seed) seen.insert(first_pieces(seed));
  EXPECT_GT(seen.size(), 1u);
  SegmentBatch past;
  EXPECT_THROW(sb.batch(sb.steps(), past), InvalidArgument);
  EXPECT_THROW(SegmentBatcher(s, 0, 4), InvalidArgument);
}

TEST(TransformerXLFit, LearnsAPatternWithTheScheduleAndValidates) {
  TransformerXL m(tiny(), 3);
  m.set_training(false);
  const TokenStreams train = ramps(8, 30), valid = ramps(3, 30, 8);
  TransformerXLFitOptions o;
  o.batch_size = 4;
  o.epochs = 6;
  o.lr = 1e-2;
  o.warmup_steps = 10;
  o.lr_floor = 1e-3;
  o.seed = 5;
  std::vector<StepInfo> steps;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    steps.push_back(s);
    return true;
  };
  const FitResult r = m.fit(train, valid, o, cb);
  ASSERT_EQ(r.history.size(), 6u);
  ASSERT_GT(steps.size(), 20u);
  const optim::InverseSqrtSchedule schedule(o.lr, o.warmup_steps, o.lr_floor);
  for (const StepInfo& s : steps) {
    EXPECT_DOUBLE_EQ(s.value("lr"), schedule.lr(s.global_step));
    EXPECT_GT(s.value("grad_norm"), 0.0);
  }
  EXPECT_LT(r.history.back().train_loss, 0.5 * r.history.front().train_loss);
  EXPECT_LT(r.history.back().valid_loss, 1.0);  // ln 16 = 2.8 for a guess
  EXPECT_LT(r.best_valid_loss, r.history.front().valid_loss);
  EXPECT_FALSE(m.training());  // the caller's mode, restored
}

TEST(TransformerXLFit, ResumesBitForBit) {
  const TokenStreams train = ramps(6, 20), valid = ramps(2, 20, 6);
  TransformerXLFitOptions o;
  o.batch_size = 3;
  o.epochs = 3;
  o.warmup_steps = 4;
  o.lr = 5e-3;
  o.seed = 8;
  const fs::path d1 = temp_dir("full"), d2 = temp_dir("part");
  o.checkpoint_dir = d1.string();
  std::vector<StepInfo> full_steps;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo& s) {
    full_steps.push_back(s);
    return true;
  };
  TransformerXL full(tiny(), 1);
  const FitResult rf = full.fit(train, valid, o, cb);

  TransformerXLFitOptions o2 = o;
  o2.checkpoint_dir = d2.string();
  o2.epochs = 2;
  TransformerXL part(tiny(), 1);
  part.fit(train, valid, o2);
  o2.epochs = 3;
  o2.resume = true;
  TransformerXL resumed(tiny(), 99);  // another init: everything comes from the checkpoint
  std::vector<StepInfo> rsteps;
  FitCallbacks rcb;
  rcb.on_step = [&](const StepInfo& s) {
    rsteps.push_back(s);
    return true;
  };
  const FitResult rr = resumed.fit(train, valid, o2, rcb);
  ASSERT_EQ(rr.history.size(), 3u);
  ASSERT_FALSE(rsteps.empty());
  const std::size_t skip = full_steps.size() - rsteps.size();
  for (std::size_t i = 0; i < rsteps.size(); ++i) EXPECT_EQ(rsteps[i].losses, full_steps[skip + i].losses) << i;
  EXPECT_EQ(rr.history[2].valid_loss, rf.history[2].valid_loss);
  const Tensor& a = full.parameters().values();
  const Tensor& b = resumed.parameters().values();
  ASSERT_EQ(a.size(), b.size());
  for (std::int64_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
  fs::remove_all(d1);
  fs::remove_all(d2);
}

TEST(TransformerXLFit, RefusesBadInput) {
  TransformerXL m(tiny(), 1);
  TransformerXLFitOptions o;
  o.epochs = 1;
  TokenStreams none;
  none.pieces = {{0}, {}};
  EXPECT_THROW(m.fit(none, {}, o), InvalidArgument);
  TokenStreams out_of_vocab = ramps(2, 10);
  out_of_vocab.pieces[1][3] = 16;
  EXPECT_THROW(m.fit(out_of_vocab, {}, o), InvalidArgument);
  try {
    m.evaluate_nll(out_of_vocab);
    FAIL() << "evaluate_nll took a token outside the vocabulary";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("piece 1 holds token 16"), std::string::npos) << e.what();
  }
  o.warmup_steps = 0;
  EXPECT_THROW(m.fit(ramps(2, 10), {}, o), InvalidArgument);
}
