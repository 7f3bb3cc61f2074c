// Tensor storage, views and shape helpers.
#include "partita/core/tensor.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace partita {

std::int64_t shape_numel(const Shape& shape) {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw ShapeError("Tensor: negative extent in shape " + shape_str(shape));
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::ostringstream os;
  os << '(';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ',';
  os << ')';
  return os.str();
}

void Tensor::Free::operator()(float* p) const { std::free(p); }

static float* aligned_floats(std::int64_t n) {
  if (n == 0) return nullptr;
  size_t bytes = static_cast<size_t>(n) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, bytes);
  if (!p) throw Error("Tensor: out of memory allocating " + std::to_string(bytes) + " bytes");
  return static_cast<float*>(p);
}

Tensor::Tensor(Shape shape) : shape_(std::move(shape)) {
  size_ = shape_numel(shape_);
  storage_.reset(aligned_floats(size_));
  capacity_ = size_;
  data_ = storage_.get();
  if (size_) std::memset(data_, 0, sizeof(float) * size_);
}

Tensor Tensor::view(float* data, Shape shape) {
  Tensor t;
  t.size_ = shape_numel(shape);
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor::Tensor(const Tensor& other) { *this = other; }

Tensor& Tensor::operator=(const Tensor& other) {
  if (this == &other) return *this;
  if (other.owns()) {
    if (!owns() || capacity_ < other.size_) {
      storage_.reset(aligned_floats(other.size_));
      capacity_ = other.size_;
    }
    data_ = storage_.get();
    shape_ = other.shape_;
    size_ = other.size_;
    if (size_) std::memcpy(data_, other.data_, sizeof(float) * size_);
  } else {
    storage_.reset();
    capacity_ = 0;
    data_ = other.data_;
    shape_ = other.shape_;
    size_ = other.size_;
  }
  return *this;
}

std::int64_t Tensor::dim(int i) const {
  int r = rank();
  if (i < 0) i += r;
  if (i < 0 || i >= r)
    throw ShapeError("Tensor::dim: axis " + std::to_string(i) + " out of range for shape " +
                     shape_str(shape_));
  return shape_[i];
}

void Tensor::resize(const Shape& shape) {
  std::int64_t n = shape_numel(shape);
  if (!owns() && data_ != nullptr) {
    if (n != size_)
      throw ShapeError("Tensor::resize: a view of shape " + shape_str(shape_) +
                       " cannot be resized to " + shape_str(shape));
    shape_ = shape;
    return;
  }
  if (n > capacity_) {
    storage_.reset(aligned_floats(n));
    capacity_ = n;
  }
  data_ = storage_.get();
  shape_ = shape;
  size_ = n;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  if (shape_numel(shape) != size_)
    throw ShapeError("Tensor::reshaped: cannot view " + shape_str(shape_) + " as " +
                     shape_str(shape));
  return view(data_, shape);
}

Tensor Tensor::slice(std::int64_t begin, std::int64_t end) const {
  if (rank() == 0 || begin < 0 || end > shape_[0] || begin > end)
    throw ShapeError("Tensor::slice: [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") out of range for shape " + shape_str(shape_));
  Shape s = shape_;
  std::int64_t row = size_ / std::max<std::int64_t>(shape_[0], 1);
  s[0] = end - begin;
  return view(data_ + begin * row, s);
}

void Tensor::fill(float v) { std::fill(data_, data_ + size_, v); }

void Tensor::copy_from(const Tensor& other) {
  if (other.size_ != size_)
    throw ShapeError("Tensor::copy_from: " + shape_str(other.shape_) + " into " +
                     shape_str(shape_));
  if (size_) std::memmove(data_, other.data_, sizeof(float) * size_);
}

Eigen::Map<Tensor::RowMatrix> Tensor::matrix() {
  Eigen::Index cols = rank() ? shape_.back() : 1;
  Eigen::Index rows = cols ? size_ / cols : 0;
  return {data_, rows, cols};
}
Eigen::Map<const Tensor::RowMatrix> Tensor::matrix() const {
  Eigen::Index cols = rank() ? shape_.back() : 1;
  Eigen::Index rows = cols ? size_ / cols : 0;
  return {data_, rows, cols};
}

void Tensor::expect_shape(const Shape& shape, const char* who) const {
  if (shape != shape_)
    throw ShapeError(std::string(who) + ": expected shape " + shape_str(shape) + ", got " +
                     shape_str(shape_));
}

}  // namespace partita
