// Transformer-XL against its PyTorch twin (tools/torch_twins/transformer_xl_twin.py): the
// committed fixture tests/data/txl (make_transformer_xl_fixture.py: a 2-layer network, three
// consecutive segments of a batch of 2, float64 results from float32 weights) pins the
// logits and the loss of every segment given the memory of the ones before, the memory
// itself (each layer's inputs, the oldest dropped past 8 positions), every parameter's
// gradient of segments 2 and 3 with their memory held fixed, and a row whose memory is
// cleared (segment 3, row 1).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "partita/core/threads.hpp"
#include "partita/models/transformer_xl.hpp"
#include "partita/optim/safetensors.hpp"

using namespace partita;
using namespace partita::models;

// One thread: the suite runs many test programs side by side on few cores.
static const int kOneThread = (set_num_threads(1), 1);

static const std::string kFix = std::string(PARTITA_TEST_DATA) + "/txl/";
constexpr double kRtol = 1e-4;

namespace {

double max_abs(const Tensor& t) {
  double m = 0;
  for (std::int64_t i = 0; i < t.size(); ++i) m = std::max(m, std::abs(double(t[i])));
  return m;
}

// |got - want| <= kRtol |want| + atol per element.
void expect_close(const Tensor& got, const Tensor& want, double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  std::int64_t at = 0;
  for (std::int64_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(double(got[i]) - double(want[i])) - kRtol * std::abs(double(want[i]));
    if (!(err <= worst)) worst = std::isnan(err) ? INFINITY : err, at = i;
  }
  EXPECT_LE(worst, atol) << what << ": element " << at << " of " << got.size() << " got " << got[at] << " want "
                         << want[at] << " (max |want| " << max_abs(want) << ")";
}

data::TokenBatch ids(const Tensor& t) {
  data::TokenBatch b(t.dim(0), t.dim(1));
  for (std::int64_t i = 0; i < t.size(); ++i) b.ids[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(std::lround(t[i]));
  return b;
}

}  // namespace

TEST(TransformerXLTwin, WeightsFileLoadsWithEveryTensorUsed) {
  TransformerXL m = TransformerXL::load(kFix + "twin_weights.safetensors");
  EXPECT_FALSE(m.training());
  const TransformerXLConfig& c = m.config();
  EXPECT_EQ(c.layers, 2);
  EXPECT_EQ(c.heads, 3);
  EXPECT_EQ(c.d_model, 12);
  EXPECT_EQ(c.d_head, 5);
  EXPECT_EQ(c.segment, 5);
  EXPECT_EQ(c.memory, 8);
  optim::SafetensorsReader file(kFix + "twin_weights.safetensors");
  std::set<std::string> ours;
  for (const nn::Parameter& p : m.parameters().params()) ours.insert(p.name);
  EXPECT_EQ(ours.size(), file.tensors().size());
  for (const auto& info : file.tensors()) EXPECT_EQ(ours.count(info.name), 1u) << "partita has no " << info.name;
}

TEST(TransformerXLTwin, SegmentsWithMemoryMatchLogitsLossesMemoryAndEveryGradient) {
  TransformerXL m = TransformerXL::load(kFix + "twin_weights.safetensors");
  m.set_training(true);  // dropout 0 in this config: the training path, the twin's numbers
  optim::SafetensorsReader io(kFix + "twin_io.safetensors");
  TransformerXLMemory memory;
  int grads_checked = 0;
  for (int k = 1; k <= 3; ++k) {
    const std::string s = "s" + std::to_string(k);
    const data::TokenBatch tokens = ids(io.read_f32("tokens." + s)), targets = ids(io.read_f32("targets." + s));
    if (k == 3) memory.clear_row(1);  // row 1 starts a new piece
    TransformerXLMemory copy = memory;
    const Tensor want_logits = io.read_f32("logits." + s);
    expect_close(m.forward(tokens, copy), want_logits, kRtol * max_abs(want_logits), "logits " + s);

    const float loss = m.loss_and_backward(tokens, targets, memory);
    const double want_loss = io.read_f32("loss." + s)[0];
    EXPECT_NEAR(loss, want_loss, kRtol * std::abs(want_loss)) << "loss " + s;
    const std::int64_t held[] = {0, 5, 8, 8};  // after segment 2: 10 positions seen, the oldest 2 dropped
    EXPECT_EQ(memory.length(), held[k]);
    if (k == 3) {
      EXPECT_EQ(memory.row_length(0), 8);
      EXPECT_EQ(memory.row_length(1), 5);
    }
    if (k < 3)
      for (int l = 0; l < 2; ++l) {
        const Tensor want = io.read_f32("memory." + s + ".layer" + std::to_string(l));
        expect_close(memory.layer(l), want, kRtol * max_abs(want), "memory after " + s + " layer " + std::to_string(l));
      }
    if (k == 1) continue;
    double scale = 0;
    for (const nn::Parameter& p : m.parameters().params()) scale = std::max(scale, max_abs(io.read_f32("grad." + s + "." + p.name)));
    EXPECT_GT(scale, 1e-2);
    for (nn::Parameter& p : m.parameters().params()) {
      const Tensor want_t = io.read_f32("grad." + s + "." + p.name);
      ASSERT_EQ(want_t.shape(), optim::torch_shape(p)) << p.name;
      Tensor want(p.shape);
      optim::from_torch_layout(p, want_t.data(), want.data());
      expect_close(p.grad, want, kRtol * std::max(max_abs(want), 1e-2 * scale), "grad " + s + " " + p.name);
      ++grads_checked;
    }
  }
  EXPECT_EQ(grads_checked, 2 * static_cast<int>(m.parameters().params().size()));
}
