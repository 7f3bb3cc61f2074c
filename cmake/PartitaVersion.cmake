# partita's version is written once, in project(partita VERSION ...) in CMakeLists.txt.
# C++ gets it from the generated header <partita/version.hpp> (PARTITA_VERSION_STRING,
# partita::version()), in the build tree and installed with the other headers; the
# Python package reads the same line (pyproject.toml: scikit-build-core's regex
# metadata provider) and its __version__ comes from the header.
configure_file(${PROJECT_SOURCE_DIR}/cmake/version.hpp.in
               ${PROJECT_BINARY_DIR}/include/partita/version.hpp @ONLY)
# For everything that links partita::partita (the Python module, the tools, the
# tests); installed, the header sits beside the others in include/partita/.
target_include_directories(partita INTERFACE $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>)
