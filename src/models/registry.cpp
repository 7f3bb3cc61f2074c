// The shipped-model registry and the search for a model's file (registry.hpp).
//
// The model files live in three kinds of places: the Python package
// (python/partita/models/ in the source tree, partita/models/ in a wheel), and
// <prefix>/<datadir>/partita/models/ after `cmake --install`
// (cmake/PartitaInstall.cmake defines PARTITA_INSTALL_DATADIR for this file). The
// directory of the binary holding this code is found with dladdr (the executable
// for the static library, the module for a shared one), so a moved install
// still works.
#include "partita/models/registry.hpp"

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

namespace partita::models {
namespace {

namespace fs = std::filesystem;

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

std::string known_names() {
  std::string s;
  for (const ShippedModel& m : shipped_models()) {
    s += (s.empty() ? "" : ", ") + m.name;
    for (const auto& a : m.aliases) s += " (or " + a + ")";
  }
  return s;
}

}  // namespace

const std::vector<ShippedModel>& shipped_models() {
  static const std::vector<ShippedModel> models = {
      {"arcnn-default", {"arcnn"}, "arcnn", "arcnn-default.safetensors", "PARTITA_ARCNN_WEIGHTS",
       "AR-CNN melody editor: 4 levels, 16 base filters, trained on the JSB chorales (docs/arcnn.md)"},
      {"chorale", {"gan", "gan-chorale"}, "gan", "gan-chorale.safetensors", "PARTITA_GAN_CHORALE_WEIGHTS",
       "GAN accompaniment in the style of the JSB chorales: alto, tenor, bass (choir) under a melody (docs/gan.md)"},
      {"quartet", {"gan-quartet"}, "gan", "gan-quartet.safetensors", "PARTITA_GAN_QUARTET_WEIGHTS",
       "GAN accompaniment in the style of the string quartets of music21's corpus: second violin, viola, cello "
       "(docs/gan.md)"},
      {"transformer", {"transformer-corpus", "transformer_xl"}, "transformer_xl", "transformer-corpus.safetensors",
       "PARTITA_TRANSFORMER_WEIGHTS",
       "Transformer-XL track extension trained on folk tunes, fiddle tunes, chorales, Palestrina and quartets "
       "(docs/transformer.md)"},
      {"transformer-jsb", {}, "transformer_xl", "transformer-jsb.safetensors", "PARTITA_TRANSFORMER_JSB_WEIGHTS",
       "Transformer-XL trained on the JSB chorales only, for the NLL comparison (docs/transformer.md)"},
  };
  return models;
}

const ShippedModel& find_shipped_model(const std::string& name) {
  for (const ShippedModel& m : shipped_models()) {
    if (m.name == name) return m;
    for (const auto& a : m.aliases)
      if (a == name) return m;
  }
  throw InvalidArgument("find_shipped_model: no shipped model is named '" + name + "'; partita ships " +
                        known_names());
}

const ShippedModel& default_shipped_model(const std::string& kind) {
  for (const ShippedModel& m : shipped_models())
    if (m.kind == kind) return m;
  throw InvalidArgument("default_shipped_model: partita ships no model of kind '" + kind + "'; it ships " +
                        known_names());
}

std::string shipped_model_path(const std::string& name) {
  const ShippedModel& m = find_shipped_model(name);
  const std::string who = "shipped_model_path(\"" + m.name + "\")";
  if (const char* env = m.env_var.empty() ? nullptr : std::getenv(m.env_var.c_str()); env && *env) {
    if (is_file(env)) return env;
    throw IoError(who + ": $" + m.env_var + " is set to '" + env +
                  "' but no such file exists (unset it to use the shipped model)");
  }
  std::vector<std::pair<std::string, std::string>> tried;  // (where, path)
  if (std::string dir = binary_dir(); !dir.empty()) {
    tried.emplace_back("next to the binary", dir + "/../share/partita/models/" + m.file);
    tried.emplace_back("next to the binary", dir + "/models/" + m.file);
  }
#ifdef PARTITA_INSTALL_DATADIR
  tried.emplace_back("installed", std::string(PARTITA_INSTALL_DATADIR) + "/models/" + m.file);
#endif
  const bool source_tree = !env_flag("PARTITA_NO_SOURCE_TREE_WEIGHTS");
  const std::string rel = "python/partita/models/" + m.file;
  if (source_tree) {
#ifdef PARTITA_SOURCE_DIR
    tried.emplace_back("source tree", std::string(PARTITA_SOURCE_DIR) + "/" + rel);
#endif
    tried.emplace_back("working directory", rel);
  }
  for (const auto& [where, p] : tried)
    if (is_file(p)) return fs::path(p).lexically_normal().string();

  std::string msg = who + ": the shipped model was not found";
  if (!m.env_var.empty()) msg += "; $" + m.env_var + " is unset";
  msg += tried.empty() ? "; no other place to look" : "; tried";
  for (const auto& [where, p] : tried) msg += " " + p + " (" + where + "),";
  if (!tried.empty()) msg.pop_back();
  if (!source_tree) msg += "; the source tree was skipped ($PARTITA_NO_SOURCE_TREE_WEIGHTS)";
  msg += ". Install partita (cmake --install)";
  if (!m.env_var.empty()) msg += " or set " + m.env_var + " to a model file (.safetensors) of kind \"" + m.kind + "\"";
  throw IoError(msg);
}

}  // namespace partita::models
