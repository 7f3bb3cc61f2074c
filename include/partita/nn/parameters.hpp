// ParameterSet: all learnable tensors of a model in one flat buffer.
//
// Layers declare their parameters at construction (`add`), then the model calls
// `allocate(seed)` once: one contiguous buffer for values and one for gradients
// (same layout) are made, each Parameter's `value` and `grad` become views into
// them, and initialisers run in declaration order from one seeded Generator, so
// a seed reproduces a model bit for bit. Zeroing gradients, the optimizer step,
// saving and handing weights to numpy are then single loops over flat arrays.
//
// Names follow the PyTorch twin's state_dict ("enc.0.conv1.weight"); `layout`
// records how our in-memory layout maps to the twin's so the safetensors
// writer can convert (e.g. conv weights HWIO here, OIHW in the file).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"

namespace partita::nn {

/// How a parameter's memory layout relates to the PyTorch twin's tensor layout.
enum class Layout {
  Same,       // identical (biases, norms, embeddings)
  ConvHWIO,   // ours (kh, kw, in, out)  <-> torch (out, in, kh, kw)
  LinearIO,   // ours (in, out)          <-> torch (out, in)
};

/// Initialiser: fills `value` (numel elements) given fan_in / fan_out.
using Initializer = std::function<void(Tensor& value, Generator& rng)>;

struct Parameter {
  std::string name;
  Shape shape;               // our in-memory shape
  Layout layout = Layout::Same;
  Initializer init;
  bool trainable = true;     // false: buffers such as BatchNorm running stats
  Tensor value;              // view into ParameterSet's value buffer (after allocate)
  Tensor grad;               // view into the gradient buffer (after allocate)
  std::int64_t offset = 0;   // element offset into the flat buffers
};

class ParameterSet {
 public:
  /// Declare a parameter. The returned reference stays valid (deque storage).
  Parameter& add(std::string name, Shape shape, Initializer init,
                 Layout layout = Layout::Same, bool trainable = true);
  /// Allocate the flat buffers and run every initialiser from Generator(seed).
  void allocate(std::uint64_t seed);
  bool allocated() const { return allocated_; }

  std::int64_t size() const { return total_; }
  Tensor& values() { ++version_; return values_; }  // flat (size,)
  const Tensor& values() const { return values_; }
  Tensor& grads() { return grads_; }    // flat (size,)
  void zero_grad() { grads_.zero(); }

  std::deque<Parameter>& params() { ++version_; return params_; }
  const std::deque<Parameter>& params() const { return params_; }
  Parameter& get(const std::string& name);  // InvalidArgument if missing
  std::int64_t trainable_count() const;

  /// Weights version: a counter that changes whenever the values may have been
  /// written through the set: every non-const values(), params() and get(),
  /// allocate(), and touch(). Inference engines that keep a packed copy of the
  /// weights (the GAN's batch-1 generator) repack when it has changed since they
  /// packed. Code that keeps a reference to a value tensor across such a use and
  /// writes through it later calls touch() after writing.
  std::uint64_t version() const { return version_; }
  void touch() { ++version_; }
  /// Writeable views handed out to other code (the Python bindings' numpy
  /// views) that are still alive: while any is, the weights may change at any
  /// moment, so packed copies are not reused. The bindings count them with
  /// view_opened() / view_closed() (which also changes the version).
  std::int64_t live_views() const { return live_views_; }
  void view_opened() { ++live_views_; ++version_; }
  void view_closed() { --live_views_; ++version_; }

 private:
  std::deque<Parameter> params_;
  Tensor values_, grads_;
  std::int64_t total_ = 0;
  bool allocated_ = false;
  std::uint64_t version_ = 0;
  std::int64_t live_views_ = 0;
};

// Named initialisers (fan_in/fan_out computed by the layer that asks).
Initializer init_zeros();
Initializer init_ones();
Initializer init_constant(float v);
Initializer init_uniform(float lo, float hi);
Initializer init_normal(float mean, float stddev);
Initializer init_glorot_uniform(std::int64_t fan_in, std::int64_t fan_out);   // Keras default
Initializer init_he_normal(std::int64_t fan_in);                             // Kaiming normal, ReLU gain
Initializer init_torch_default(std::int64_t fan_in);  // PyTorch Linear/Conv: U(+-1/sqrt(fan_in))

}  // namespace partita::nn
