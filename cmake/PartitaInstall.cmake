# Install the headers, the component libraries and a CMake package so that
# `find_package(partita)` + `target_link_libraries(app partita::partita)` works.
include(CMakePackageConfigHelpers)
# The shipped-model registry (src/models/registry.cpp) looks next to the
# binary (<bin>/../share/partita/models, found with dladdr) and in this build's
# install data dir, so a C++ app linking an installed partita finds the shipped model.
target_link_libraries(partita_models PRIVATE ${CMAKE_DL_LIBS})
# include/partita/music/pianoroll.hpp includes xtensor's headers: partita::music
# carries xtensor's target, and partitaConfig.cmake finds xtensor for the consumer.
set(PARTITA_LINKS_XTENSOR OFF)
if(TARGET xtensor)
  target_link_libraries(partita_music PUBLIC xtensor)
  set(PARTITA_LINKS_XTENSOR ON)
endif()
if(NOT SKBUILD)  # a wheel ships the Python module only
  install(DIRECTORY include/partita DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(FILES ${PROJECT_BINARY_DIR}/include/partita/version.hpp
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/partita)
  install(TARGETS partita ${PARTITA_COMPONENTS} EXPORT partitaTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  if(TARGET partita_cli)
    install(TARGETS partita_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
  # The shipped models (models/registry.hpp); a wheel has them in the Python package instead.
  set(PARTITA_INSTALL_DATADIR "${CMAKE_INSTALL_FULL_DATADIR}/partita")
  file(GLOB _partita_models ${PROJECT_SOURCE_DIR}/python/partita/models/*.safetensors)
  install(FILES ${_partita_models} DESTINATION ${CMAKE_INSTALL_DATADIR}/partita/models)
  set_property(SOURCE src/models/registry.cpp APPEND PROPERTY
               COMPILE_DEFINITIONS "PARTITA_INSTALL_DATADIR=\"${PARTITA_INSTALL_DATADIR}\"")
  install(EXPORT partitaTargets NAMESPACE partita::
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/partita)
  configure_package_config_file(cmake/partitaConfig.cmake.in
    ${CMAKE_CURRENT_BINARY_DIR}/partitaConfig.cmake
    INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/partita)
  write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/partitaConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/partitaConfig.cmake
                ${CMAKE_CURRENT_BINARY_DIR}/partitaConfigVersion.cmake
          DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/partita)
endif()
