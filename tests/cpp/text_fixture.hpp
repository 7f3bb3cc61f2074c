// Reader for the text fixtures written by tools/torch_twins/make_{optim,gp}_fixture*.py:
// one tensor a line, "name d0,d1,... v0 v1 ...", values parsed as double then
// rounded to float; '#' starts a comment line.
#pragma once
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "partita/core/error.hpp"
#include "partita/core/tensor.hpp"

namespace partita::testing {

inline std::map<std::string, Tensor> load_text_fixture(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw IoError("cannot open fixture " + path);
  std::map<std::string, Tensor> out;
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    std::string name, dims;
    is >> name >> dims;
    Shape shape;
    std::istringstream ds(dims);
    for (std::string d; std::getline(ds, d, ',');) shape.push_back(std::stoll(d));
    Tensor t(shape);
    for (std::int64_t i = 0; i < t.size(); ++i) {
      double v;
      is >> v;
      t[i] = static_cast<float>(v);
    }
    out.emplace(name, std::move(t));
  }
  return out;
}

}  // namespace partita::testing
