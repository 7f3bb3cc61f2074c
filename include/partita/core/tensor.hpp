// Tensor: a dense float32 array, row-major (C order), 64-byte aligned.
//
// A Tensor either owns its storage or is a view into someone else's (a
// parameter inside a model's flat buffer, a slice of a batch). Views are cheap
// to copy; an owning Tensor copies deeply. Image-like activations use NHWC
// layout: (batch, height, width, channels); for piano rolls height = time and
// width = pitch. Shapes are checked with clear ShapeErrors.
#pragma once
#include <Eigen/Core>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "partita/core/error.hpp"

namespace partita {

using Shape = std::vector<std::int64_t>;

/// Number of elements of a shape; throws ShapeError on negative extents.
std::int64_t shape_numel(const Shape& shape);
/// "(2, 3, 4)"
std::string shape_str(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;
  /// Owning, zero-initialised.
  explicit Tensor(Shape shape);
  Tensor(std::initializer_list<std::int64_t> shape) : Tensor(Shape(shape)) {}
  /// Non-owning view of `data` with `shape`.
  static Tensor view(float* data, Shape shape);

  Tensor(const Tensor& other);             // deep copy if other owns, else view copy
  Tensor& operator=(const Tensor& other);  // same rule
  Tensor(Tensor&&) noexcept = default;
  Tensor& operator=(Tensor&&) noexcept = default;

  const Shape& shape() const { return shape_; }
  std::int64_t dim(int i) const;  // negative i counts from the end
  int rank() const { return static_cast<int>(shape_.size()); }
  std::int64_t size() const { return size_; }
  bool owns() const { return static_cast<bool>(storage_); }
  bool empty() const { return size_ == 0; }

  float* data() { return data_; }
  const float* data() const { return data_; }
  float& operator[](std::int64_t i) { return data_[i]; }
  float operator[](std::int64_t i) const { return data_[i]; }

  /// Reallocate (owning) only when the element count grows; keeps capacity.
  /// Contents are unspecified afterwards. Throws if this is a view of a different size.
  void resize(const Shape& shape);
  /// Same data, new shape of the same element count (no copy).
  Tensor reshaped(const Shape& shape) const;
  /// Rows [begin, end) of the first axis, as a view.
  Tensor slice(std::int64_t begin, std::int64_t end) const;

  void fill(float v);
  void zero() { fill(0.0f); }
  void copy_from(const Tensor& other);  // shapes must have equal numel

  /// Flat Eigen view.
  Eigen::Map<Eigen::VectorXf, Eigen::Unaligned> vec() {
    return {data_, static_cast<Eigen::Index>(size_)};
  }
  Eigen::Map<const Eigen::VectorXf, Eigen::Unaligned> vec() const {
    return {data_, static_cast<Eigen::Index>(size_)};
  }
  /// View as a row-major (rows x cols) matrix where cols = last extent.
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<RowMatrix> matrix();
  Eigen::Map<const RowMatrix> matrix() const;

  /// Throws ShapeError("<who>: expected <shape>, got <shape>") if shapes differ.
  void expect_shape(const Shape& shape, const char* who) const;

 private:
  struct Free {
    void operator()(float* p) const;
  };
  std::unique_ptr<float[], Free> storage_;
  std::int64_t capacity_ = 0;
  float* data_ = nullptr;
  Shape shape_;
  std::int64_t size_ = 0;
};

}  // namespace partita
