# iopgt_add_plugin(NAME name SOURCES ... [OUTPUT_DIR dir] [NO_INSTALL])
#
# Builds a format plugin as a MODULE library `name.so` (no "lib" prefix, the
# file name is the plugin name) with hidden visibility, so only the
# descriptor symbol is exported.  Also builds `name-static`, the same code as
# a static library, for tests and benchmarks that link a format directly and
# register it with iopgt_host_register_builtin().
function(iopgt_add_plugin)
  cmake_parse_arguments(P "NO_INSTALL;NO_STATIC" "NAME;OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${IOPGT_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${P_NAME} MODULE ${P_SOURCES})
  target_link_libraries(${P_NAME} PRIVATE iopgt::plugin-api ${P_LIBS})
  set_target_properties(${P_NAME} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR})
  # Undefined symbols fail at link time, not at dlopen.
  target_link_options(${P_NAME} PRIVATE -Wl,-z,defs)
  if(NOT P_NO_STATIC)
    add_library(${P_NAME}-static STATIC ${P_SOURCES})
    target_link_libraries(${P_NAME}-static PUBLIC iopgt::plugin-api ${P_LIBS})
    target_compile_definitions(${P_NAME}-static PRIVATE IOPGT_BUILTIN)
    set_target_properties(${P_NAME}-static PROPERTIES C_VISIBILITY_PRESET hidden)
  endif()
  if(NOT P_NO_INSTALL)
    install(TARGETS ${P_NAME} LIBRARY DESTINATION ${IOPGT_PLUGIN_SUBDIR})
  endif()
endfunction()
