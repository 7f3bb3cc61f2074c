// SoundFont discovery: an explicit path, then $PARTITA_SOUNDFONT, then the
// paths where Linux distributions install General MIDI SoundFonts.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "partita/core/error.hpp"
#include "partita/render/synth.hpp"

namespace partita {
namespace {

namespace fs = std::filesystem;

// A regular file (symlinks followed), without throwing on odd paths.
bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(fs::path(path), ec);
}

std::string require_file(const std::string& path, const char* origin) {
  if (!is_file(path)) {
    std::error_code ec;
    const bool exists = fs::exists(fs::path(path), ec);
    throw RenderError(std::string("find_soundfont: SoundFont '") + path + "' (" + origin + ") " +
                      (exists ? "is not a regular file" : "does not exist"));
  }
  return path;
}

}  // namespace

std::vector<std::string> default_soundfont_paths() {
  return {
      // Debian / Ubuntu packages (checked with dpkg -L).
      "/usr/share/sounds/sf2/FluidR3_GM.sf2",          // fluid-soundfont-gm
      "/usr/share/sounds/sf3/FluidR3_GM.sf3",
      "/usr/share/sounds/sf3/FluidR3Mono_GM.sf3",      // fluidr3mono-gm-soundfont
      "/usr/share/sounds/sf2/TimGM6mb.sf2",            // timgm6mb-soundfont
      "/usr/share/sounds/sf2/MuseScore_General.sf2",   // musescore-general-soundfont
      "/usr/share/sounds/sf3/MuseScore_General.sf3",   // musescore-general-soundfont-small
      "/usr/share/sounds/sf2/default-GM.sf2",          // update-alternatives default
      "/usr/share/sounds/sf3/default-GM.sf3",
      // Fedora, Arch, openSUSE, Homebrew.
      "/usr/share/soundfonts/FluidR3_GM.sf2",
      "/usr/share/soundfonts/default.sf2",
      "/usr/share/soundfonts/freepats-general-midi.sf2",
      "/usr/local/share/soundfonts/default.sf2",
      "/opt/homebrew/share/soundfonts/default.sf2",
  };
}

std::string find_soundfont(const std::string& explicit_path) {
  return find_soundfont(explicit_path, default_soundfont_paths());
}

std::string find_soundfont(const std::string& explicit_path,
                           const std::vector<std::string>& search_paths) {
  if (!explicit_path.empty()) return require_file(explicit_path, "given explicitly");
  if (const char* env = std::getenv("PARTITA_SOUNDFONT"); env && *env)
    return require_file(env, "from PARTITA_SOUNDFONT");
  for (const auto& p : search_paths)
    if (is_file(p)) return p;
  std::string looked;
  for (const auto& p : search_paths) looked += (looked.empty() ? "" : ", ") + p;
  throw RenderError(
      "find_soundfont: no SoundFont found (PARTITA_SOUNDFONT is not set" +
      (looked.empty() ? std::string() : "; looked in " + looked) +
      "): install fluid-soundfont-gm (apt-get install fluid-soundfont-gm) or set "
      "PARTITA_SOUNDFONT to a .sf2/.sf3 file");
}

}  // namespace partita
