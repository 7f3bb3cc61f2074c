// The shipped models, by name: which file each is and where it is found.
//
// Every pretrained model partita ships is one entry here (name, aliases, kind,
// file name, environment override); C++ (ARCNN::pretrained), Python
// (partita.models_available(), partita.ARCNN.pretrained()) and both command lines
// resolve names through this one table. A model file is looked up, in order:
//   1. the entry's environment variable (PARTITA_ARCNN_WEIGHTS for the AR-CNN)
//      if set and non-empty: that file or an IoError naming it (no fall-through);
//   2. relative to the binary holding the library: <bin>/../share/partita/models/
//      (an app installed in partita's prefix, also after the prefix is moved) and
//      <bin>/models/ (the Python module inside its package);
//   3. the install data dir compiled in: <CMAKE_INSTALL_PREFIX>/<datadir>/partita/models/
//      (`cmake --install` puts the models there; not in wheel builds);
//   4. the source tree it was compiled from, then ./python/partita/models/, skipped
//      when $PARTITA_NO_SOURCE_TREE_WEIGHTS is set (not "0").
// An IoError lists every place tried when none has the file.
#pragma once
#include <string>
#include <vector>

namespace partita::models {

struct ShippedModel {
  std::string name;                  // canonical name, e.g. "arcnn-default"
  std::vector<std::string> aliases;  // other accepted names, e.g. "arcnn"
  std::string kind;                  // model-file kind (model_file.hpp), e.g. "arcnn"
  std::string file;                  // file name in a models/ folder
  std::string env_var;               // override variable, e.g. "PARTITA_ARCNN_WEIGHTS"
  std::string description;
};

/// Every shipped model, in a fixed order.
const std::vector<ShippedModel>& shipped_models();

/// The entry named `name` (canonical or alias). InvalidArgument listing the known
/// names otherwise.
const ShippedModel& find_shipped_model(const std::string& name);

/// The default shipped model of a kind ("arcnn" -> "arcnn-default").
/// InvalidArgument if partita ships none of that kind.
const ShippedModel& default_shipped_model(const std::string& kind);

/// Where the file of shipped model `name` is (see the search order above).
/// InvalidArgument for an unknown name, IoError when the file is not found.
std::string shipped_model_path(const std::string& name);

}  // namespace partita::models
