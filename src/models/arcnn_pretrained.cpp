// Where the shipped AR-CNN model is found, and loading it.
//
// The model file (arcnn-default.safetensors) lives in three kinds of places:
// the Python package (python/partita/models/ in the source tree, partita/models/
// in a wheel), and <prefix>/<datadir>/partita/models/ after `cmake --install`
// (cmake/PartitaInstall.cmake). default_weights_path() looks, in order, at
//   1. $PARTITA_ARCNN_WEIGHTS (set and non-empty: that file or an IoError; no fallback),
//   2. the install data dir relative to the binary that holds this code (the
//      executable for the static library, the module for a shared one):
//      <bin>/../share/partita/models/ and <bin>/models/ (a Python package's
//      _core module sits next to its models/ folder): a moved install still works,
//   3. the install data dir compiled in (PARTITA_INSTALL_DATADIR, set by CMake
//      to the configured prefix's <datadir>/partita; absent in a wheel build),
//   4. the source tree this file was compiled from (__FILE__), then the working
//      directory's python/partita/models/, unless $PARTITA_NO_SOURCE_TREE_WEIGHTS
//      is set to something other than "" or "0" (so a check of an installed
//      package cannot pass by reading the source tree).
// The IoError lists every place tried.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <dlfcn.h>
#define PARTITA_HAVE_DLADDR 1
#endif

#include "partita/core/error.hpp"
#include "partita/models/arcnn.hpp"

namespace partita::models {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFileName = "arcnn-default.safetensors";

bool is_file(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}

// The directory of the executable or shared object that contains this function.
std::string binary_dir() {
#ifdef PARTITA_HAVE_DLADDR
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&binary_dir), &info) && info.dli_fname && *info.dli_fname) {
    std::error_code ec;
    fs::path p = fs::canonical(info.dli_fname, ec);
    if (!ec) return p.parent_path().string();
  }
#endif
  return {};
}

}  // namespace

std::string ARCNN::default_weights_path() {
  const char* who = "ARCNN::default_weights_path";
  if (const char* env = std::getenv("PARTITA_ARCNN_WEIGHTS"); env && *env) {
    if (is_file(env)) return env;
    throw IoError(std::string(who) + ": $PARTITA_ARCNN_WEIGHTS is set to '" + env +
                  "' but no such file exists (unset it to use the shipped model)");
  }
  std::vector<std::pair<std::string, std::string>> tried;  // (where, path)
  if (std::string dir = binary_dir(); !dir.empty()) {
    tried.emplace_back("next to the binary", dir + "/../share/partita/models/" + kFileName);
    tried.emplace_back("next to the binary", dir + "/models/" + kFileName);
  }
#ifdef PARTITA_INSTALL_DATADIR
  tried.emplace_back("installed", std::string(PARTITA_INSTALL_DATADIR) + "/models/" + kFileName);
#endif
  const bool source_tree = !env_flag("PARTITA_NO_SOURCE_TREE_WEIGHTS");
  const std::string rel = std::string("python/partita/models/") + kFileName;
  if (source_tree) {
    std::string here = __FILE__;  // <root>/src/models/arcnn_pretrained.cpp
    auto pos = here.rfind("src/models/");
    if (pos != std::string::npos) tried.emplace_back("source tree", here.substr(0, pos) + rel);
    tried.emplace_back("working directory", rel);
  }
  for (const auto& [where, p] : tried)
    if (is_file(p)) return fs::path(p).lexically_normal().string();

  std::string msg = std::string(who) + ": the shipped model was not found; $PARTITA_ARCNN_WEIGHTS is unset";
  msg += tried.empty() ? "; no other place to look" : "; tried";
  for (const auto& [where, p] : tried) msg += " " + p + " (" + where + "),";
  if (!tried.empty()) msg.pop_back();
  if (!source_tree) msg += "; the source tree was skipped ($PARTITA_NO_SOURCE_TREE_WEIGHTS)";
  throw IoError(msg + ". Install partita (cmake --install) or set PARTITA_ARCNN_WEIGHTS to an arcnn .safetensors file");
}

ARCNN ARCNN::pretrained() { return load(default_weights_path()); }

}  // namespace partita::models
