// ARCNN::default_weights_path(): the search order ($PARTITA_ARCNN_WEIGHTS first and
// final, then the install data dirs, then the source tree unless
// $PARTITA_NO_SOURCE_TREE_WEIGHTS) and the IoError that lists the places tried.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/random.hpp"
#include "partita/models/arcnn.hpp"
#include "partita/models/model_file.hpp"
#include "partita/models/registry.hpp"

using partita::IoError;
using partita::models::ARCNN;
namespace fs = std::filesystem;

namespace {

// Sets/unsets an environment variable for one test and restores it afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      setenv(name_.c_str(), old_->c_str(), 1);
    else
      unsetenv(name_.c_str());
  }

 private:
  std::string name_;
  std::optional<std::string> old_;
};

std::string message_of(void (*f)()) {
  try {
    f();
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

const std::string kSourceModel =
    std::string(PARTITA_SOURCE_DIR) + "/python/partita/models/arcnn-default.safetensors";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TEST(ArcnnPretrainedPath, EnvironmentVariableComesFirst) {
  fs::path tmp = fs::temp_directory_path() / "partita_test_weights.safetensors";
  { std::ofstream(tmp) << "x"; }  // only existence is checked here
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", tmp.c_str());
  EXPECT_EQ(ARCNN::default_weights_path(), tmp.string());
  fs::remove(tmp);
}

TEST(ArcnnPretrainedPath, MissingEnvironmentFileIsAnErrorNotAFallthrough) {
  // The source tree has the model, yet a wrong $PARTITA_ARCNN_WEIGHTS must not be ignored.
  ASSERT_TRUE(fs::exists(kSourceModel));
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", "/nonexistent/dir/model.safetensors");
  EXPECT_THROW(ARCNN::default_weights_path(), IoError);
  EXPECT_THROW(ARCNN::pretrained(), IoError);
  std::string msg = message_of([] { ARCNN::default_weights_path(); });
  EXPECT_NE(msg.find("ARCNN::default_weights_path"), std::string::npos) << msg;
  EXPECT_NE(msg.find("PARTITA_ARCNN_WEIGHTS"), std::string::npos) << msg;
  EXPECT_NE(msg.find("/nonexistent/dir/model.safetensors"), std::string::npos) << msg;
}

TEST(ArcnnPretrainedPath, DirectoryInEnvironmentIsNotAFile) {
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", fs::temp_directory_path().c_str());
  EXPECT_THROW(ARCNN::default_weights_path(), IoError);
}

TEST(ArcnnPretrainedPath, EmptyEnvironmentVariableMeansUnset) {
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", "");
  ScopedEnv s("PARTITA_NO_SOURCE_TREE_WEIGHTS", nullptr);
  std::string p = ARCNN::default_weights_path();
  EXPECT_TRUE(fs::is_regular_file(p)) << p;
  EXPECT_TRUE(ends_with(p, "/models/arcnn-default.safetensors")) << p;
}

TEST(ArcnnPretrainedPath, FallsBackToInstallOrSourceTree) {
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", nullptr);
  ScopedEnv s("PARTITA_NO_SOURCE_TREE_WEIGHTS", nullptr);
  std::string p = ARCNN::default_weights_path();
  // An installed copy (<prefix>/share/partita/models/) wins over the source tree.
  bool installed = ends_with(p, "/partita/models/arcnn-default.safetensors") &&
                   p.find("/share/") != std::string::npos;
  EXPECT_TRUE(installed || fs::equivalent(p, kSourceModel)) << p;
}

TEST(ArcnnPretrainedPath, WithoutSourceTreeTheErrorListsTheInstallPlaces) {
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", nullptr);
  ScopedEnv s("PARTITA_NO_SOURCE_TREE_WEIGHTS", "1");
  std::string p;
  try {
    p = ARCNN::default_weights_path();
  } catch (const IoError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("PARTITA_ARCNN_WEIGHTS"), std::string::npos) << msg;
    EXPECT_NE(msg.find("PARTITA_NO_SOURCE_TREE_WEIGHTS"), std::string::npos) << msg;
    EXPECT_NE(msg.find("share/partita/models/arcnn-default.safetensors"), std::string::npos) << msg;
    EXPECT_EQ(msg.find(kSourceModel), std::string::npos) << msg;
    return;
  }
  // This build's install prefix has been installed to: the path must be that copy.
  EXPECT_FALSE(fs::equivalent(p, kSourceModel)) << p;
  EXPECT_NE(p.find("/share/partita/models/"), std::string::npos) << p;
}

TEST(ArcnnPretrainedPath, NoSourceTreeFlagZeroKeepsTheSourceTree) {
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", nullptr);
  ScopedEnv s("PARTITA_NO_SOURCE_TREE_WEIGHTS", "0");
  EXPECT_NO_THROW(ARCNN::default_weights_path());
}

// The registry: names and aliases resolve to one entry; ARCNN::pretrained goes through it.
TEST(ShippedModels, NamesAliasesAndKinds) {
  using namespace partita::models;
  ASSERT_FALSE(shipped_models().empty());
  const ShippedModel& m = find_shipped_model("arcnn");
  EXPECT_EQ(&m, &find_shipped_model("arcnn-default"));
  EXPECT_EQ(&m, &default_shipped_model("arcnn"));
  EXPECT_EQ(m.kind, "arcnn");
  EXPECT_EQ(m.env_var, "PARTITA_ARCNN_WEIGHTS");
  EXPECT_THROW(find_shipped_model("no-such-model"), partita::InvalidArgument);
  EXPECT_THROW(default_shipped_model("no-such-kind"), partita::InvalidArgument);
  EXPECT_THROW(ARCNN::pretrained("no-such-model"), partita::InvalidArgument);
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", nullptr);
  EXPECT_EQ(shipped_model_path("arcnn"), ARCNN::default_weights_path());
}

// The shipped file predates "model.version": it reads as version 1; a loaded
// model is in eval mode, so forward gives the deterministic eval logits.
TEST(ShippedModels, PretrainedLoadsInEvalModeAndFitRestoresTheMode) {
  using namespace partita;
  using namespace partita::models;
  ScopedEnv w("PARTITA_ARCNN_WEIGHTS", kSourceModel.c_str());
  ModelFileHeader h = read_model_header(kSourceModel, "arcnn", "test");
  EXPECT_EQ(h.version, 1);
  ARCNN a = ARCNN::pretrained();
  EXPECT_FALSE(a.training());
  ARCNN b = ARCNN::load(kSourceModel);
  EXPECT_FALSE(b.training());
  Tensor x({1, 128, 128, 1});
  Generator g(3);
  for (std::int64_t i = 0; i < x.size(); ++i) x[i] = g.uniform() < 0.02 ? 1.0f : 0.0f;
  const Tensor first = a.forward(x);
  b.set_training(true);
  b.set_training(false);  // explicitly eval
  const Tensor eval = b.forward(x);
  for (std::int64_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], eval[i]) << i;
  b.set_training(true);
  const Tensor train = b.forward(x);
  bool differs = false;
  for (std::int64_t i = 0; i < first.size() && !differs; ++i) differs = train[i] != first[i];
  EXPECT_TRUE(differs);  // training mode (dropout, batch statistics) is another function

  // fit() trains in training mode and hands the model back in the caller's mode.
  data::WindowSet win(128);
  std::vector<std::uint8_t> cells(128 * 128, 0);
  for (int t = 0; t < 128; ++t) cells[t * 128 + 60 + (t / 8) % 5] = 1;
  win.push(cells.data());
  ArcnnFitOptions o;
  o.epochs = 1;
  o.batch_size = 1;
  o.max_steps_per_epoch = 1;
  o.bn_recalibration_batches = 0;
  bool trained_in_training_mode = false;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo&) {
    trained_in_training_mode = a.training();
    return true;
  };
  a.fit(win, data::WindowSet(128), o, cb);
  EXPECT_TRUE(trained_in_training_mode);
  EXPECT_FALSE(a.training());
}
