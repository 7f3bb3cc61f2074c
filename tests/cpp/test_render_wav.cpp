// Tests of write_wav / read_wav: round trips (PCM16 and float, stereo and
// mono), PCM16 clipping, bad input, and atomic writes (no partial or temporary
// file left behind on failure, an existing file survives a failed write).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "partita/core/error.hpp"
#include "partita/render/wav.hpp"

namespace {

namespace fs = std::filesystem;
using partita::Tensor;
using partita::WavFormat;

class WavTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("partita_wav_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::size_t files_in_dir() const {
    return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()));
  }
  fs::path dir_;
};

Tensor sine(std::int64_t frames, int channels, double amplitude) {
  Tensor t({frames, channels});
  for (std::int64_t f = 0; f < frames; ++f)
    for (int c = 0; c < channels; ++c)
      t[f * channels + c] = static_cast<float>(amplitude * std::sin(0.05 * f + c));
  return t;
}

TEST_F(WavTest, Pcm16StereoRoundTrip) {
  const Tensor audio = sine(10000, 2, 0.8);
  partita::write_wav(path("a.wav"), audio, 44100);
  const partita::Audio back = partita::read_wav(path("a.wav"));
  EXPECT_EQ(back.sample_rate, 44100);
  EXPECT_EQ(back.frames(), 10000);
  EXPECT_EQ(back.channels(), 2);
  for (std::int64_t i = 0; i < audio.size(); ++i)
    ASSERT_NEAR(back.samples[i], audio[i], 1.0 / 32767) << "sample " << i;
  // 44-byte header + 2 bytes per sample.
  EXPECT_EQ(fs::file_size(path("a.wav")), 44u + 10000u * 2 * 2);
  EXPECT_EQ(files_in_dir(), 1u);  // no temporary file left
}

TEST_F(WavTest, FloatRoundTripIsExact) {
  Tensor audio = sine(777, 2, 1.7);  // floats may exceed full scale
  audio[5] = 3.25f;
  partita::write_wav(path("f.wav"), audio, 48000, WavFormat::Float);
  const partita::Audio back = partita::read_wav(path("f.wav"));
  EXPECT_EQ(back.sample_rate, 48000);
  ASSERT_EQ(back.samples.shape(), audio.shape());
  for (std::int64_t i = 0; i < audio.size(); ++i) ASSERT_EQ(back.samples[i], audio[i]);
}

TEST_F(WavTest, MonoFromRankOneTensor) {
  Tensor mono({300});
  for (int i = 0; i < 300; ++i) mono[i] = (i % 7) / 10.0f;
  partita::write_wav(path("m.wav"), mono, 22050);
  const partita::Audio back = partita::read_wav(path("m.wav"));
  EXPECT_EQ(back.channels(), 1);
  EXPECT_EQ(back.frames(), 300);
  EXPECT_NEAR(back.samples[6], 0.6f, 1e-4);
}

TEST_F(WavTest, Pcm16ClipsInsteadOfWrapping) {
  Tensor audio({4, 1});
  audio[0] = 1.5f;
  audio[1] = -2.0f;
  audio[2] = 1.0f;
  audio[3] = 0.25f;
  partita::write_wav(path("c.wav"), audio, 8000);
  const partita::Audio back = partita::read_wav(path("c.wav"));
  EXPECT_GT(back.samples[0], 0.999f);  // 32767 / 32768, not a negative wrap
  EXPECT_EQ(back.samples[1], -1.0f);
  EXPECT_GT(back.samples[2], 0.999f);
  EXPECT_NEAR(back.samples[3], 0.25f, 1e-4);
}

TEST_F(WavTest, EmptyAudioIsAValidFile) {
  partita::write_wav(path("e.wav"), Tensor({0, 2}), 44100);
  const partita::Audio back = partita::read_wav(path("e.wav"));
  EXPECT_EQ(back.frames(), 0);
  EXPECT_EQ(back.channels(), 2);
}

TEST_F(WavTest, BadInputThrowsAndWritesNothing) {
  Tensor audio = sine(100, 2, 0.5);
  audio[41] = std::nanf("");
  EXPECT_THROW(partita::write_wav(path("n.wav"), audio, 44100), partita::InvalidArgument);
  EXPECT_THROW(partita::write_wav(path("r.wav"), sine(10, 2, 0.5), 0), partita::InvalidArgument);
  EXPECT_THROW(partita::write_wav(path("s.wav"), Tensor({2, 3, 4}), 44100), partita::ShapeError);
  EXPECT_THROW(partita::write_wav(path("z.wav"), Tensor({10, 0}), 44100), partita::ShapeError);
  EXPECT_EQ(files_in_dir(), 0u);
}

TEST_F(WavTest, UnwritablePlacesLeaveNoPartialFile) {
  // A folder that does not exist.
  EXPECT_THROW(partita::write_wav(path("missing/x.wav"), sine(10, 2, 0.5), 44100), partita::IoError);
  EXPECT_EQ(files_in_dir(), 0u);
  // The destination is a folder: the rename fails and the temporary file is removed.
  fs::create_directories(dir_ / "taken.wav");
  try {
    partita::write_wav(path("taken.wav"), sine(1000, 2, 0.5), 44100);
    ADD_FAILURE() << "no IoError";
  } catch (const partita::IoError& e) {
    EXPECT_NE(std::string(e.what()).find("taken.wav"), std::string::npos) << e.what();
  }
  EXPECT_EQ(files_in_dir(), 1u);  // only the folder
}

TEST_F(WavTest, FailedWriteKeepsTheExistingFile) {
  partita::write_wav(path("keep.wav"), sine(500, 2, 0.5), 44100);
  const auto size = fs::file_size(path("keep.wav"));
  Tensor bad = sine(2000, 2, 0.5);
  bad[3] = INFINITY;
  EXPECT_THROW(partita::write_wav(path("keep.wav"), bad, 44100), partita::InvalidArgument);
  EXPECT_EQ(fs::file_size(path("keep.wav")), size);
  EXPECT_EQ(partita::read_wav(path("keep.wav")).frames(), 500);
  // A successful write replaces it whole.
  partita::write_wav(path("keep.wav"), sine(2000, 2, 0.5), 44100);
  EXPECT_EQ(partita::read_wav(path("keep.wav")).frames(), 2000);
  EXPECT_EQ(files_in_dir(), 1u);
}

TEST_F(WavTest, ReadErrorsAreTyped) {
  EXPECT_THROW(partita::read_wav(path("nope.wav")), partita::IoError);
  EXPECT_THROW(partita::read_wav(dir_.string()), partita::IoError);
  std::ofstream(path("text.wav")) << "not audio at all, just some text";
  try {
    partita::read_wav(path("text.wav"));
    ADD_FAILURE() << "no FormatError";
  } catch (const partita::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("text.wav"), std::string::npos) << e.what();
  }
}

}  // namespace
