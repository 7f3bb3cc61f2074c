// Model files: safetensors weights + kind, layout version and config (model_file.hpp).
#include "partita/models/model_file.hpp"

#include <cctype>

#include "partita/core/error.hpp"
#include "partita/optim/checkpoint.hpp"

namespace partita::models {

namespace {

int parse_version(const std::string& text, const std::string& path, const char* who) {
  bool digits = !text.empty() && text.size() <= 9;
  for (char ch : text) digits = digits && std::isdigit(static_cast<unsigned char>(ch));
  const int v = digits ? std::stoi(text) : 0;
  if (v < 1)
    throw WeightsError(std::string(who) + ": " + path + " has \"" + model_keys::kVersion + "\": \"" + text +
                       "\", expected a version number in 1.." + std::to_string(kModelFileVersion));
  return v;
}

}  // namespace

ModelFileHeader read_model_header(const std::string& path, const std::string& kind, const char* who) {
  optim::SafetensorsReader reader(path);
  ModelFileHeader h;
  h.path = path;
  h.metadata = reader.metadata();
  const auto& md = h.metadata;
  auto kit = md.find(model_keys::kKind);
  if (kit == md.end())
    throw WeightsError(std::string(who) + ": " + path + " has no \"" + model_keys::kKind +
                       "\" in its metadata (not a partita model file); expected a \"" + kind + "\" model");
  h.kind = kit->second;
  if (h.kind != kind)
    throw WeightsError(std::string(who) + ": " + path + " holds a \"" + h.kind + "\" model, expected \"" + kind +
                       "\"");
  auto vit = md.find(model_keys::kVersion);
  h.version = vit == md.end() ? 1 : parse_version(vit->second, path, who);
  if (h.version > kModelFileVersion)
    throw WeightsError(std::string(who) + ": " + path + " is a \"" + kind + "\" model file of version " +
                       std::to_string(h.version) + ", this partita reads versions up to " +
                       std::to_string(kModelFileVersion) + " (upgrade partita)");
  auto cit = md.find(model_keys::kConfig);
  if (cit == md.end())
    throw WeightsError(std::string(who) + ": " + path + " has no \"" + model_keys::kConfig +
                       "\" in its metadata; expected the " + kind + " config as JSON");
  h.config = cit->second;
  return h;
}

optim::Metadata model_metadata(const std::string& kind, const std::string& config_json,
                               const optim::Metadata& extra) {
  optim::Metadata md = extra;
  md[model_keys::kKind] = kind;
  md[model_keys::kVersion] = std::to_string(kModelFileVersion);
  md[model_keys::kConfig] = config_json;
  return md;
}

void save_model_file(const std::string& path, const nn::ParameterSet& params, const std::string& kind,
                     const std::string& config_json, const optim::Metadata& extra) {
  optim::save_safetensors(path, params, model_metadata(kind, config_json, extra));
}

void save_model_file(const std::string& path, const std::vector<const nn::ParameterSet*>& sets,
                     const std::string& kind, const std::string& config_json, const optim::Metadata& extra) {
  optim::save_safetensors_sets(path, sets, model_metadata(kind, config_json, extra));
}

ModelFileHeader load_model_file(const std::string& path, nn::ParameterSet& params, const std::string& kind,
                                const char* who) {
  ModelFileHeader h = read_model_header(path, kind, who);
  optim::load_safetensors(path, params, /*strict=*/true);
  return h;
}

ModelFileHeader load_model_file(const std::string& path, const std::vector<nn::ParameterSet*>& sets,
                                const std::string& kind, const char* who) {
  ModelFileHeader h = read_model_header(path, kind, who);
  optim::load_safetensors_sets(path, sets);
  return h;
}

}  // namespace partita::models
