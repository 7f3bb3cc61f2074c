// Tensor: ownership, views, resize capacity, shape errors; Generator reproducibility.
#include <gtest/gtest.h>

#include "partita/core/random.hpp"
#include "partita/core/tensor.hpp"

using namespace partita;

TEST(Tensor, OwningIsZeroedAndAligned) {
  Tensor t({2, 3, 4});
  EXPECT_EQ(t.size(), 24);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data()) % 64, 0u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(t[i], 0.0f);
}

TEST(Tensor, CopyOfOwnerIsDeepCopyOfViewIsShallow) {
  Tensor a({4});
  a.fill(1.0f);
  Tensor b = a;
  b[0] = 5.0f;
  EXPECT_EQ(a[0], 1.0f);
  Tensor v = Tensor::view(a.data(), {2, 2});
  Tensor w = v;
  w[3] = 7.0f;
  EXPECT_EQ(a[3], 7.0f);
}

TEST(Tensor, ResizeKeepsCapacityAndViewsRefuseToGrow) {
  Tensor a({100});
  float* p = a.data();
  a.resize({10, 5});
  EXPECT_EQ(a.data(), p);
  EXPECT_EQ(a.size(), 50);
  Tensor v = Tensor::view(a.data(), {50});
  EXPECT_THROW(v.resize({51}), ShapeError);
  EXPECT_THROW(a.reshaped({7, 7}), ShapeError);
  EXPECT_THROW(a.expect_shape({5, 10}, "test"), ShapeError);
  EXPECT_THROW(Tensor({-1}), ShapeError);
}

TEST(Tensor, SliceIsAViewOfRows) {
  Tensor a({3, 2});
  for (int i = 0; i < 6; ++i) a[i] = float(i);
  Tensor s = a.slice(1, 3);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(s[0], 2.0f);
  EXPECT_THROW(a.slice(2, 4), ShapeError);
}

TEST(Generator, SameSeedSameStreamAndUniformInRange) {
  Generator a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    differs |= (x != c.next_u64());
  }
  EXPECT_TRUE(differs);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(a.below(7), 7u);
}
