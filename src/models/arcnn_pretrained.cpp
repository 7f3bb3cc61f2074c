// Where the shipped AR-CNN model is found, and loading it.
#include <fstream>
#include <string>
#include <vector>
#include <cstdlib>

#include "partita/core/error.hpp"
#include "partita/models/arcnn.hpp"

namespace partita::models {

std::string ARCNN::default_weights_path() {
  std::vector<std::string> tried;
  if (const char* env = std::getenv("PARTITA_ARCNN_WEIGHTS")) tried.emplace_back(env);
  const std::string rel = "python/partita/models/arcnn-default.safetensors";
  std::string here = __FILE__;  // <root>/src/models/arcnn_pretrained.cpp
  auto pos = here.rfind("src/models/");
  if (pos != std::string::npos) tried.push_back(here.substr(0, pos) + rel);
  tried.push_back(rel);
  for (const auto& p : tried)
    if (std::ifstream(p).good()) return p;
  std::string msg = "ARCNN::default_weights_path: the shipped model was not found; tried";
  for (const auto& p : tried) msg += " " + p;
  throw IoError(msg + " (set PARTITA_ARCNN_WEIGHTS to an arcnn .safetensors file)");
}

ARCNN ARCNN::pretrained() { return load(default_weights_path()); }

}  // namespace partita::models
