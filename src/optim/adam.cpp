// Adam/AdamW step, state save/load, and gradient-norm clipping.
#include "partita/optim/adam.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "core/simd_target.hpp"
#include "partita/core/cpu.hpp"
#include "partita/core/error.hpp"

#if PARTITA_SIMD_X86
#include <immintrin.h>
#endif

namespace partita::optim {

namespace {

struct AdamScalars {
  float step_size, bc2_sqrt, w1, b2, one_minus_b2, eps, wd, decay;
};

// x <- x + (-step) * m / (sqrt(v) / bc2_sqrt + eps) for n elements, in torch's
// order of operations (addcdiv: self + value * t1 / t2) and with the exact IEEE
// square root. std::sqrt in a plain loop would not vectorise (errno) and Eigen's
// fast-math sqrt is an rsqrt approximation, so the vector units are used
// directly: AVX-512, AVX, or SSE2 (every x86-64 CPU) at the generic level.
// The operations are exactly rounded, so every level gives the same bits.
PARTITA_INLINE_BODY void adam_apply_tail(const AdamScalars& k, std::int64_t i, std::int64_t n,
                                         float* __restrict x, const float* __restrict m,
                                         const float* __restrict v) {
  for (; i < n; ++i) x[i] = x[i] + (-k.step_size) * m[i] / (std::sqrt(v[i]) / k.bc2_sqrt + k.eps);
}

#if PARTITA_SIMD_X86
PARTITA_TARGET_AVX512 inline void adam_apply_avx512(const AdamScalars& k, std::int64_t n,
                                                    float* __restrict x, const float* __restrict m,
                                                    const float* __restrict v) {
  std::int64_t i = 0;
  const __m512 step = _mm512_set1_ps(-k.step_size), bc2 = _mm512_set1_ps(k.bc2_sqrt),
               eps = _mm512_set1_ps(k.eps);
  for (; i + 16 <= n; i += 16) {
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(_mm512_loadu_ps(v + i)), bc2), eps);
    const __m512 upd = _mm512_div_ps(_mm512_mul_ps(step, _mm512_loadu_ps(m + i)), denom);
    _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), upd));
  }
  adam_apply_tail(k, i, n, x, m, v);
}

PARTITA_TARGET_AVX2 inline void adam_apply_avx2(const AdamScalars& k, std::int64_t n,
                                                float* __restrict x, const float* __restrict m,
                                                const float* __restrict v) {
  std::int64_t i = 0;
  const __m256 step = _mm256_set1_ps(-k.step_size), bc2 = _mm256_set1_ps(k.bc2_sqrt),
               eps = _mm256_set1_ps(k.eps);
  for (; i + 8 <= n; i += 8) {
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(_mm256_loadu_ps(v + i)), bc2), eps);
    const __m256 upd = _mm256_div_ps(_mm256_mul_ps(step, _mm256_loadu_ps(m + i)), denom);
    _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_loadu_ps(x + i), upd));
  }
  adam_apply_tail(k, i, n, x, m, v);
}
#endif

inline void adam_apply_generic(const AdamScalars& k, std::int64_t n, float* __restrict x,
                               const float* __restrict m, const float* __restrict v) {
  std::int64_t i = 0;
#if PARTITA_SIMD_X86
  const __m128 step = _mm_set1_ps(-k.step_size), bc2 = _mm_set1_ps(k.bc2_sqrt),
               eps = _mm_set1_ps(k.eps);
  for (; i + 4 <= n; i += 4) {
    const __m128 denom = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(_mm_loadu_ps(v + i)), bc2), eps);
    const __m128 upd = _mm_div_ps(_mm_mul_ps(step, _mm_loadu_ps(m + i)), denom);
    _mm_storeu_ps(x + i, _mm_add_ps(_mm_loadu_ps(x + i), upd));
  }
#endif
  adam_apply_tail(k, i, n, x, m, v);
}

// Pass 1 over a block: the moments (a plain loop, vectorised for the level of
// the kernel it is inlined into).
template <bool kL2, bool kDecoupled, bool kLerpLow>
PARTITA_INLINE_BODY void adam_moments(const AdamScalars& k, std::int64_t len, float* __restrict xb,
                                      const float* __restrict gb, float* __restrict mb,
                                      float* __restrict vb) {
  for (std::int64_t i = 0; i < len; ++i) {
    float g = gb[i];
    if (kL2) g = g + k.wd * xb[i];
    if (kDecoupled) xb[i] = xb[i] * k.decay;
    mb[i] = kLerpLow ? mb[i] + k.w1 * (g - mb[i]) : g - (g - mb[i]) * (1.0f - k.w1);
    vb[i] = vb[i] * k.b2 + k.one_minus_b2 * (g * g);
  }
}

// Applied in blocks of 4096 elements that stay in cache between the two passes:
// pass 1 updates the moments, pass 2 the values. One instance per SIMD level.
#define PARTITA_ADAM_KERNEL(NAME, TARGET, APPLY)                                              \
  template <bool kL2, bool kDecoupled, bool kLerpLow>                                        \
  TARGET void NAME(const AdamScalars& k, std::int64_t n, float* __restrict x,                \
                   const float* __restrict gr, float* __restrict m, float* __restrict v) {   \
    constexpr std::int64_t kBlock = 4096;                                                    \
    for (std::int64_t b = 0; b < n; b += kBlock) {                                           \
      const std::int64_t len = std::min(kBlock, n - b);                                      \
      adam_moments<kL2, kDecoupled, kLerpLow>(k, len, x + b, gr + b, m + b, v + b);          \
      APPLY(k, len, x + b, m + b, v + b);                                                    \
    }                                                                                        \
  }
PARTITA_ADAM_KERNEL(adam_kernel_generic, , adam_apply_generic)
#if PARTITA_SIMD_X86
PARTITA_ADAM_KERNEL(adam_kernel_avx2, PARTITA_TARGET_AVX2, adam_apply_avx2)
PARTITA_ADAM_KERNEL(adam_kernel_avx512, PARTITA_TARGET_AVX512, adam_apply_avx512)
#endif
#undef PARTITA_ADAM_KERNEL

using Kernel = void (*)(const AdamScalars&, std::int64_t, float*, const float*, float*, float*);

// One specialisation per (L2, decoupled, lerp branch): the loop body has no branches.
#define PARTITA_ADAM_TABLE(NAME)                                        \
  {{{NAME<false, false, false>, NAME<false, false, true>},             \
    {NAME<false, true, false>, NAME<false, true, true>}},              \
   {{NAME<true, false, false>, NAME<true, false, true>},               \
    {NAME<true, true, false>, NAME<true, true, true>}}}

Kernel pick_kernel(bool l2, bool decoupled, bool lerp_low) {
  static const Kernel generic[2][2][2] = PARTITA_ADAM_TABLE(adam_kernel_generic);
#if PARTITA_SIMD_X86
  static const Kernel avx2[2][2][2] = PARTITA_ADAM_TABLE(adam_kernel_avx2);
  static const Kernel avx512[2][2][2] = PARTITA_ADAM_TABLE(adam_kernel_avx512);
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512[l2][decoupled][lerp_low];
    case SimdLevel::Avx2: return avx2[l2][decoupled][lerp_low];
    case SimdLevel::Generic: break;
  }
#endif
  return generic[l2][decoupled][lerp_low];
}
#undef PARTITA_ADAM_TABLE

void check_options(const AdamOptions& o) {
  if (!(o.lr >= 0.0)) throw InvalidArgument("Adam: lr must be >= 0, got " + std::to_string(o.lr));
  if (!(o.eps >= 0.0)) throw InvalidArgument("Adam: eps must be >= 0, got " + std::to_string(o.eps));
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0))
    throw InvalidArgument("Adam: beta1 must be in [0, 1), got " + std::to_string(o.beta1));
  if (!(o.beta2 >= 0.0 && o.beta2 < 1.0))
    throw InvalidArgument("Adam: beta2 must be in [0, 1), got " + std::to_string(o.beta2));
  if (!(o.weight_decay >= 0.0))
    throw InvalidArgument("Adam: weight_decay must be >= 0, got " + std::to_string(o.weight_decay));
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

double parse_num(const Metadata& m, const std::string& key, const std::string& where) {
  auto it = m.find(key);
  if (it == m.end()) throw WeightsError(where + ": metadata lacks '" + key + "'");
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0')
    throw WeightsError(where + ": metadata '" + key + "' is not a number: '" + it->second + "'");
  return v;
}

}  // namespace

Adam::Adam(nn::ParameterSet& params, AdamOptions options) : params_(params), opt_(options) {
  if (!params.allocated()) throw InvalidArgument("Adam: the ParameterSet is not allocated");
  check_options(opt_);
  m_ = Tensor(Shape{params.size()});
  v_ = Tensor(Shape{params.size()});
}

void Adam::set_lr(double lr) {
  if (!(lr >= 0.0)) throw InvalidArgument("Adam::set_lr: lr must be >= 0, got " + std::to_string(lr));
  opt_.lr = lr;
}

void Adam::reset() {
  m_.zero();
  v_.zero();
  t_ = 0;
}

void Adam::step() {
  ++t_;
  // Scalars as PyTorch forms them: in double, then used as float in float32 kernels.
  const double bc1 = 1.0 - std::pow(opt_.beta1, static_cast<double>(t_));
  const double bc2 = 1.0 - std::pow(opt_.beta2, static_cast<double>(t_));
  const float step_size = static_cast<float>(opt_.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float w1 = static_cast<float>(1.0 - opt_.beta1);
  const float b2 = static_cast<float>(opt_.beta2);
  const float one_minus_b2 = static_cast<float>(1.0 - opt_.beta2);
  const float eps = static_cast<float>(opt_.eps);
  const float wd = static_cast<float>(opt_.weight_decay);
  const float decay = static_cast<float>(1.0 - opt_.lr * opt_.weight_decay);
  const bool l2 = opt_.weight_decay != 0.0 && !opt_.decoupled_weight_decay;
  const bool decoupled = opt_.weight_decay != 0.0 && opt_.decoupled_weight_decay;

  AdamScalars k{step_size, bc2_sqrt, w1, b2, one_minus_b2, eps, wd, decay};
  const Kernel kernel = pick_kernel(l2, decoupled, w1 < 0.5f);

  float* x = params_.values().data();
  const float* g = params_.grads().data();
  float* m = m_.data();
  float* v = v_.data();
  for (const auto& p : params_.params()) {
    if (!p.trainable) continue;
    const std::int64_t n = p.value.size();
    constexpr std::int64_t kChunk = 1 << 16;
    if (n <= kChunk) {
      kernel(k, n, x + p.offset, g + p.offset, m + p.offset, v + p.offset);
      continue;
    }
    const std::int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (std::int64_t c = 0; c < chunks; ++c) {
      const std::int64_t o = p.offset + c * kChunk;
      kernel(k, std::min(kChunk, n - c * kChunk), x + o, g + o, m + o, v + o);
    }
  }
}

void Adam::save_state(const std::string& path, const Metadata& extra) const {
  Metadata meta = extra;
  meta["partita.kind"] = "adam_state";
  meta["step"] = std::to_string(t_);
  meta["lr"] = num(opt_.lr);
  meta["beta1"] = num(opt_.beta1);
  meta["beta2"] = num(opt_.beta2);
  meta["eps"] = num(opt_.eps);
  meta["weight_decay"] = num(opt_.weight_decay);
  meta["decoupled_weight_decay"] = opt_.decoupled_weight_decay ? "1" : "0";
  std::vector<std::vector<float>> scratch;
  std::vector<TensorRef> refs;
  for (const auto& p : params_.params()) {
    if (!p.trainable) continue;
    for (int which = 0; which < 2; ++which) {
      const float* src = (which == 0 ? m_.data() : v_.data()) + p.offset;
      TensorRef r;
      r.name = p.name + (which == 0 ? ".exp_avg" : ".exp_avg_sq");
      r.shape = torch_shape(p);
      if (p.layout == nn::Layout::Same) {
        r.data = src;
      } else {
        scratch.emplace_back(static_cast<size_t>(p.value.size()));
        to_torch_layout(p, src, scratch.back().data());
        r.data = scratch.back().data();
      }
      refs.push_back(std::move(r));
    }
  }
  // refs point into scratch's inner buffers: growing the outer vector moves the
  // inner vectors, which keeps their heap buffers where they are.
  write_safetensors(path, refs, meta);
}

void Adam::load_state(const std::string& path) {
  const std::string where = "Adam::load_state: '" + path + "'";
  SafetensorsReader r(path);
  const Metadata& meta = r.metadata();
  auto kind = meta.find("partita.kind");
  if (kind == meta.end() || kind->second != "adam_state")
    throw WeightsError(where + ": not an Adam state file (metadata partita.kind != adam_state)");
  AdamOptions o;
  const double step = parse_num(meta, "step", where);
  o.lr = parse_num(meta, "lr", where);
  o.beta1 = parse_num(meta, "beta1", where);
  o.beta2 = parse_num(meta, "beta2", where);
  o.eps = parse_num(meta, "eps", where);
  o.weight_decay = parse_num(meta, "weight_decay", where);
  o.decoupled_weight_decay = parse_num(meta, "decoupled_weight_decay", where) != 0.0;
  if (!(step >= 0) || step != std::floor(step))
    throw WeightsError(where + ": bad step count in metadata");
  try {
    check_options(o);
  } catch (const InvalidArgument& e) {
    throw WeightsError(where + ": " + e.what());
  }
  // Stage into fresh buffers; commit only when everything matched.
  Tensor m(Shape{params_.size()}), v(Shape{params_.size()});
  std::vector<float> tmp;
  std::size_t used = 0;
  for (const auto& p : params_.params()) {
    if (!p.trainable) continue;
    for (int which = 0; which < 2; ++which) {
      const std::string name = p.name + (which == 0 ? ".exp_avg" : ".exp_avg_sq");
      const TensorInfo* t = r.find(name);
      if (!t) throw WeightsError(where + ": missing tensor '" + name + "'");
      if (t->dtype != DType::F32)
        throw WeightsError(where + ": tensor '" + name + "': dtype " + dtype_name(t->dtype) +
                           ", expected F32");
      if (t->shape != torch_shape(p))
        throw WeightsError(where + ": tensor '" + name + "': shape " + shape_str(t->shape) +
                           ", expected " + shape_str(torch_shape(p)));
      tmp.resize(static_cast<size_t>(p.value.size()));
      r.read_raw(*t, tmp.data());
      from_torch_layout(p, tmp.data(), (which == 0 ? m.data() : v.data()) + p.offset);
      ++used;
    }
  }
  if (used != r.tensors().size())
    throw WeightsError(where + ": the file holds " + std::to_string(r.tensors().size()) +
                       " tensors, the model's trainable parameters need " + std::to_string(used));
  m_ = std::move(m);
  v_ = std::move(v);
  t_ = static_cast<std::int64_t>(step);
  opt_ = o;
}

double grad_norm(const nn::ParameterSet& params) {
  double sum = 0.0;
  for (const auto& p : params.params()) {
    if (!p.trainable) continue;
    const float* g = p.grad.data();
    const std::int64_t n = p.grad.size();
    double s = 0.0;
#pragma omp parallel for simd reduction(+ : s) if (n > (1 << 16))
    for (std::int64_t i = 0; i < n; ++i) s += static_cast<double>(g[i]) * g[i];
    sum += s;
  }
  return std::sqrt(sum);
}

double clip_grad_norm(nn::ParameterSet& params, double max_norm) {
  if (!(max_norm > 0.0))
    throw InvalidArgument("clip_grad_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  const double norm = grad_norm(params);
  if (!std::isfinite(norm)) return norm;
  // As torch: coefficient computed in float32, clamped at 1 (no-op then).
  const float coef = static_cast<float>(max_norm) / (static_cast<float>(norm) + 1e-6f);
  if (coef < 1.0f) {
    for (auto& p : params.params()) {
      if (!p.trainable) continue;
      float* g = p.grad.data();
      const std::int64_t n = p.grad.size();
#pragma omp parallel for simd if (n > (1 << 16))
      for (std::int64_t i = 0; i < n; ++i) g[i] *= coef;
    }
  }
  return norm;
}

}  // namespace partita::optim
