# Installed with the iopgt CMake package (lib/cmake/iopgt/) and included by
# iopgtConfig.cmake: how an out-of-tree project builds a format plugin.
#
# iopgt_add_plugin_module(NAME name SOURCES ... [LIBS ...]
#                         [OUTPUT_DIR dir] [DESTINATION dir] [NO_INSTALL])
#
# Builds `name.so`, a MODULE library that the host can dlopen():
# - no "lib" prefix: the file name is the plugin name, and the host checks
#   it against the descriptor's name;
# - hidden visibility, so the only exported symbol is the descriptor that
#   IOPGT_PLUGIN_DEFINE() marks visible;
# - linked with -z defs, so an unresolved symbol fails the link instead of
#   the host's dlopen(RTLD_NOW) (not with clang and -fsanitize=, see below);
# - compiled against iopgt::plugin-api only: a plugin links nothing from the
#   host.  LIBS adds private link dependencies (self-contained ones).
# OUTPUT_DIR: where the build puts it (default: CMAKE_LIBRARY_OUTPUT_DIRECTORY
# or the current binary dir).  DESTINATION: where `cmake --install` puts it,
# default ${iopgt_PLUGIN_SUBDIR} under CMAKE_INSTALL_PREFIX (so installing
# with the SDK's prefix lands in the SDK's plugin dir; ${iopgt_PLUGIN_DIR}
# is that directory as an absolute path).  NO_INSTALL: no install rule.

function(iopgt_add_plugin_module)
  cmake_parse_arguments(P "NO_INSTALL" "NAME;OUTPUT_DIR;DESTINATION"
                        "SOURCES;LIBS" ${ARGN})
  if(NOT P_NAME OR NOT P_SOURCES)
    message(FATAL_ERROR "iopgt_add_plugin_module: NAME and SOURCES are required")
  endif()
  if(P_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR
            "iopgt_add_plugin_module: unknown arguments ${P_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT P_NAME MATCHES "^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
    message(FATAL_ERROR "iopgt_add_plugin_module: '${P_NAME}' is not a valid "
                        "plugin name ([A-Za-z0-9_.-], no leading '.')")
  endif()

  add_library(${P_NAME} MODULE ${P_SOURCES})
  target_link_libraries(${P_NAME} PRIVATE iopgt::plugin-api ${P_LIBS})
  set_target_properties(${P_NAME} PROPERTIES
    PREFIX ""
    SUFFIX ".so"
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  # clang links its sanitizer runtimes into executables only, so a module
  # built with -fsanitize= by clang has undefined __asan_*/__ubsan_*
  # references until it is loaded: there -z defs is left out.
  if(NOT (CMAKE_C_COMPILER_ID MATCHES "Clang" AND
          "${CMAKE_C_FLAGS} ${CMAKE_MODULE_LINKER_FLAGS}" MATCHES "-fsanitize="))
    target_link_options(${P_NAME} PRIVATE "LINKER:-z,defs")
  endif()
  if(P_OUTPUT_DIR)
    set_target_properties(${P_NAME} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR})
  endif()

  if(NOT P_NO_INSTALL)
    if(NOT P_DESTINATION)
      set(P_DESTINATION ${iopgt_PLUGIN_SUBDIR})
    endif()
    install(TARGETS ${P_NAME} LIBRARY DESTINATION ${P_DESTINATION})
  endif()
endfunction()
