// Direct convolution for batch-1 inference on zero-padded NHWC buffers
// (private to the library; used by batch-1 inference engines such as src/models/arcnn_infer.cpp).
//
// An output grid of H x W pixels, Cout channels. Pixel (y, x) is
//   out(y, x)[o] = act( init(y, x)[o] + sum_s sum_{j < k_s} A_s(y, x)[j] * Wpack_s[j][o] )
// where A_s(y, x) = base_s + y * row_s + x * lda_s points at k_s contiguous
// floats (for a 3x3 "same" convolution over a padded input: one segment per
// kernel row ky, base = the padded input's row ky, k = 3 * Cin, lda = Cin:
// the three pixels of a patch row are adjacent in NHWC). Segments with other
// strides express the sub-pixel form of "upsample x2 then convolve" (lda =
// Cin of the low-resolution input) or a read of every other pixel (lda =
// 2 * Cin). No column matrix is built: the kernel broadcasts input floats
// straight from the activation and multiplies them by packed weight vectors.
//
// The weights are packed once into column blocks of 16 * nb outputs:
// block b holds, for each segment in order, k_s rows of 16 * nb floats.
// init(y, x) is either a cached buffer (init_base + y * init_row + x *
// init_ld) or, when init_base is null, a bias chosen by the pixel's border
// class (first row / interior / last row / single row, times the same for
// columns: `bias_classes` holds 16 vectors of Cout floats, index ry * 4 + rx).
// A BatchNorm folded into the weights leaves a constant whose reach depends on
// which taps fall in the zero padding, hence the classes.
//
// The kernels take a block's weights in chunks of k that stay in cache while
// every tile of the rows in hand reads them (partial sums kept between
// chunks), so a layer with a large k streams its weights from memory once per
// call rather than once per tile.
//
// Every output is computed by the same sequence of operations whatever the
// tile it falls in and whatever the chunks, so recomputing a sub-rectangle
// reproduces the full computation bit for bit (the editor's incremental
// updates rely on it).
#pragma once
#include <cstdint>
#include <climits>
#include <vector>

namespace partita::nn::infer {

constexpr int kMaxSegments = 6;
constexpr std::int64_t kAllRows = INT64_MAX;

// What the float32 and bfloat16 jobs share: the geometry (all but the
// pointers) and the epilogue.
struct ConvShape {
  int nseg = 0;
  std::int64_t row[kMaxSegments] = {};
  std::int64_t lda[kMaxSegments] = {};
  std::int64_t k[kMaxSegments] = {};
  // Segment s reads real input only for output rows [y_from[s], y_to[s]); for
  // the other rows its input row is all zero padding and the kernels skip it
  // (its products are exact zeros: the result is the same bit for bit). The
  // defaults keep every segment on every row. Small grids gain the most: a
  // 3-row window over a 2-row input reads a padding row for every output row.
  std::int64_t y_from[kMaxSegments] = {};
  std::int64_t y_to[kMaxSegments] = {kAllRows, kAllRows, kAllRows, kAllRows, kAllRows, kAllRows};
  std::int64_t height = 0, width = 0;  // the output grid (border classes use it)
  std::int64_t cout = 0;
  int nb = 1;                          // 16-float vectors per column block (1, 2 or 4)
  std::int64_t out_row = 0, out_ld = 0;
  const float* bias_classes = nullptr;  // 16 x cout
  // The epilogue, per output o after init: v = max(v, 0) (relu) or v < 0 ? slope v : v
  // (leaky), then v = fma(v, post_scale[o], post_shift[o]) when post_scale is set
  // (an eval-mode BatchNorm after the activation; post_shift must be set with it).
  bool relu = false;
  bool leaky = false;
  float slope = 0.0f;
  const float* post_scale = nullptr;
  const float* post_shift = nullptr;

  bool reads(int s, std::int64_t y) const { return y >= y_from[s] && y < y_to[s]; }
  std::int64_t ktot() const {
    std::int64_t s = 0;
    for (int i = 0; i < nseg; ++i) s += k[i];
    return s;
  }
  std::int64_t blocks() const { return cout / (16 * nb); }
};

struct ConvJob : ConvShape {
  const float* base[kMaxSegments] = {};
  const float* wpack = nullptr;        // blocks of (sum_s k_s) x (16 nb), cout / (16 nb) of them
  float* out = nullptr;
  const float* init_base = nullptr;
  std::int64_t init_row = 0, init_ld = 0;
};

/// Pixels in the next tile of a row with `left` pixels to go, tiles of at most
/// P: full tiles, but the last stretch between P and 2P pixels is split into two
/// near-equal tiles (64 = 12 * 4 + 8 + 8 rather than 12 * 5 + 4): a narrow tile
/// has too few accumulators to hide the multiply latency.
inline int next_tile(std::int64_t left, int P) {
  return static_cast<int>(left >= 2 * P ? P : (left > P ? (left + 1) / 2 : left));
}

/// Border class of coordinate v in [0, n): 0 first, 1 interior, 2 last, 3 both (n == 1).
inline int border_class(std::int64_t v, std::int64_t n) {
  if (n == 1) return 3;
  return v == 0 ? 0 : (v == n - 1 ? 2 : 1);
}

/// The column-block width (vectors of 16 outputs: 1 or 2) to pack `cout`
/// outputs with for the current SIMD level: 2 where it divides cout at the
/// AVX-512 level (two vectors share each broadcast), else 1 (the AVX2 kernel
/// takes one vector pair a pass and reads a one-vector block contiguously).
/// Any width gives the same results; this one runs fastest.
int preferred_nb(std::int64_t cout);

/// Whether run_conv has a SIMD kernel at the current SIMD level (AVX2 or
/// AVX-512, core/cpu.hpp); at the generic level run_conv is the plain loop.
bool simd_kernel_available();

/// Compute rows [y0, y1) x columns [x0, x1) of the job's output, column blocks
/// [b0, b1). Single-threaded; callers split the work.
void run_conv(const ConvJob& job, std::int64_t y0, std::int64_t y1, std::int64_t x0,
              std::int64_t x1, std::int64_t b0, std::int64_t b1);

/// The same with the plain loop (no SIMD, same summation order): the kernel's
/// test oracle, and the fallback without AVX-512.
void run_conv_reference(const ConvJob& job, std::int64_t y0, std::int64_t y1, std::int64_t x0,
                        std::int64_t x1, std::int64_t b0, std::int64_t b1);

/// Pack per-segment weight matrices (segment s: k_s x cout, row-major) into
/// the job's block layout for `nb` vectors per block (cout % (16 nb) == 0).
std::vector<float> pack_weights(const std::vector<std::vector<float>>& segments,
                                std::int64_t cout, int nb);

// ---------------------------------------------------------------- bfloat16
//
// The same convolutions with bfloat16 operands (the opt-in precision of
// core/gemm.hpp, on CPUs with AVX512_BF16): activations and packed weights are
// bfloat16 words, each pair of consecutive input floats of a segment (two
// channels of one pixel) is one 32-bit broadcast, and VDPBF16PS adds both
// products into float32 sums. Every segment's k is even and every base pointer
// at an even word. The weights are packed per column block as k / 2 pair rows,
// each 16 nb (w[2q][o], w[2q + 1][o]) word pairs in output order. init is the
// border-class bias (no cached init); the output is float32 or rounded to
// bfloat16 (nearest even).
struct ConvJobBf16 : ConvShape {
  const std::uint16_t* base[kMaxSegments] = {};
  const std::uint16_t* wpack = nullptr;
  std::uint16_t* out16 = nullptr;  // bfloat16 output, or
  float* out32 = nullptr;          // float32 output (one of the two)
};

/// float -> bfloat16, rounded to nearest even; and back (exact).
std::uint16_t to_bf16(float v);
float from_bf16(std::uint16_t v);

/// Whether run_conv_bf16 has its kernel now: AVX512_BF16 on the CPU and the
/// AVX-512 level in use (core/cpu.hpp).
bool bf16_kernel_available();

/// Rows [y0, y1) x columns [x0, x1), blocks [b0, b1) of the job's output on
/// VDPBF16PS; InvalidArgument when bf16_kernel_available() is false.
void run_conv_bf16(const ConvJobBf16& job, std::int64_t y0, std::int64_t y1, std::int64_t x0,
                   std::int64_t x1, std::int64_t b0, std::int64_t b1);

/// The plain loop (operands widened to float, each pair's products added to
/// the float sum): the kernel's test oracle (equal up to float summation order).
void run_conv_bf16_reference(const ConvJobBf16& job, std::int64_t y0, std::int64_t y1,
                             std::int64_t x0, std::int64_t x1, std::int64_t b0, std::int64_t b1);

/// Weights in pack_weights' float layout (blocks of ktot x 16 nb) repacked for
/// ConvJobBf16 (ktot even).
std::vector<std::uint16_t> pack_weights_bf16(const std::vector<float>& packed, std::int64_t ktot,
                                             std::int64_t cout, int nb);

}  // namespace partita::nn::infer
