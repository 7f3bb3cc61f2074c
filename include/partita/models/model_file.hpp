// Model files: the one on-disk format every partita model is saved in.
//
// A model file is a safetensors file (optim/safetensors.hpp) holding the
// model's ParameterSet in its PyTorch twin's layout, with these keys in the
// header's "__metadata__" (all values strings, as safetensors requires):
//   "model"          the model kind: "arcnn", "gan", "transformer_xl"
//   "model.version"  the layout version of that kind, a decimal integer; this
//                    build reads versions 1..kModelFileVersion. Files written
//                    before the key existed (the shipped arcnn-default model
//                    among them) have exactly the version-1 layout, so a
//                    missing key reads as version 1.
//   "config"         the model's configuration as a JSON object (its fields are
//                    the kind's business: ArcnnConfig::to_json for "arcnn")
//   "partita.format" the container's version, added by the safetensors writer
// Any other keys are free-form (training checkpoints add "checkpoint.*" keys and
// a "history", see trainer.hpp). Reading checks the kind and the version before
// any tensor is touched: the wrong kind, a missing kind, a version newer than
// this build knows or one that is not a positive integer is a WeightsError
// naming the file, what it holds and what was expected.
#pragma once
#include <string>
#include <vector>

#include "partita/nn/parameters.hpp"
#include "partita/optim/safetensors.hpp"

namespace partita::models {

/// The newest model-file layout version this build writes and reads.
inline constexpr int kModelFileVersion = 1;

namespace model_keys {
inline constexpr const char* kKind = "model";
inline constexpr const char* kVersion = "model.version";
inline constexpr const char* kConfig = "config";
}  // namespace model_keys

/// What a model file's header says about the model.
struct ModelFileHeader {
  std::string path;
  std::string kind;     // "arcnn", ...
  int version = 1;      // model.version (1 when the key is absent)
  std::string config;   // the config JSON text
  optim::Metadata metadata;  // the whole __metadata__
};

/// Read and check the header of `path` for a model of `kind` (no tensors are
/// read). `who` names the caller in errors. IoError if the file cannot be
/// opened; WeightsError on the wrong or missing kind, an unsupported version, or
/// a missing config.
ModelFileHeader read_model_header(const std::string& path, const std::string& kind, const char* who);

/// Save `params` as a model file of `kind` with `config_json` and `extra`
/// metadata (which may not override the model keys), atomically.
void save_model_file(const std::string& path, const nn::ParameterSet& params, const std::string& kind,
                     const std::string& config_json, const optim::Metadata& extra = {});

/// Check the header as read_model_header does, then load every parameter
/// (strict: a missing or unexpected tensor is a WeightsError, nothing modified).
ModelFileHeader load_model_file(const std::string& path, nn::ParameterSet& params, const std::string& kind,
                                const char* who);

/// The same for a model made of several parameter sets (a GAN's generator and
/// critic): all of them in the one file, names unique across the sets.
void save_model_file(const std::string& path, const std::vector<const nn::ParameterSet*>& sets,
                     const std::string& kind, const std::string& config_json, const optim::Metadata& extra = {});
ModelFileHeader load_model_file(const std::string& path, const std::vector<nn::ParameterSet*>& sets,
                                const std::string& kind, const char* who);

/// The metadata of a model file of `kind` with `config_json` on top of `extra`.
optim::Metadata model_metadata(const std::string& kind, const std::string& config_json,
                               const optim::Metadata& extra = {});

}  // namespace partita::models
