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
#include "partita/models/arcnn.hpp"

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
