// partita::version() and PARTITA_VERSION_*: <partita/version.hpp>, generated from
// project(partita VERSION ...) in CMakeLists.txt, the one place the version is written.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "partita/version.hpp"

TEST(Version, StringIsMajorMinorPatch) {
  const std::string expected = std::to_string(PARTITA_VERSION_MAJOR) + "." +
                               std::to_string(PARTITA_VERSION_MINOR) + "." +
                               std::to_string(PARTITA_VERSION_PATCH);
  EXPECT_EQ(std::string(PARTITA_VERSION_STRING), expected);
  EXPECT_EQ(std::string(partita::version()), expected);
}

TEST(Version, IsTheVersionInCMakeLists) {
  std::ifstream in(std::string(PARTITA_SOURCE_DIR) + "/CMakeLists.txt");
  ASSERT_TRUE(in) << "cannot read " << PARTITA_SOURCE_DIR << "/CMakeLists.txt";
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::smatch m;
  const std::regex project_version(R"(project\(\s*partita\s+VERSION\s+([0-9]+(\.[0-9]+)*))");
  ASSERT_TRUE(std::regex_search(s, m, project_version));
  EXPECT_EQ(std::string(partita::version()), m[1].str());
}
