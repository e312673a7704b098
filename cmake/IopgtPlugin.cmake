# iopgt_add_plugin(NAME name SOURCES ... [OUTPUT_DIR dir] [NO_INSTALL])
#
# Builds a format plugin as a MODULE library `name.so` (no "lib" prefix, the
# file name is the plugin name) with hidden visibility, so only the
# descriptor symbol is exported.  Also builds `name-static`, the same code as
# a static library, for tests and benchmarks that link a format directly and
# register it with iopgt_host_register_builtin().

# Shared objects link with -Wl,-z,defs: an undefined symbol fails at link
# time, not at dlopen.  clang links its sanitizer runtimes (and libFuzzer's
# coverage callbacks) into the executable only, never into a shared object,
# so with clang and IOPGT_SANITIZE or IOPGT_FUZZ a module's __asan_*,
# __ubsan_*, __tsan_* and __sanitizer_cov_* references are undefined until
# it is loaded: there, and only there, -z defs is left out.  (gcc links its
# shared sanitizer runtimes into shared objects, so -z defs stays.)
if(CMAKE_C_COMPILER_ID STREQUAL "Clang" AND (IOPGT_SANITIZE OR IOPGT_FUZZ))
  set(IOPGT_LINK_NO_UNDEFINED "")
else()
  set(IOPGT_LINK_NO_UNDEFINED -Wl,-z,defs)
endif()

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
  # Undefined symbols fail at link time, not at dlopen (see above).
  target_link_options(${P_NAME} PRIVATE ${IOPGT_LINK_NO_UNDEFINED})
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

# iopgt_tool_rpath(TARGET): an installed program finds libiopgt-host in the
# prefix it was installed to, unless that libdir is one the dynamic linker
# searches anyway (then no RUNPATH: what Debian's packaging expects).
function(iopgt_tool_rpath target)
  list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}"
       _system)
  if(_system EQUAL -1)
    file(RELATIVE_PATH _rel ${CMAKE_INSTALL_FULL_BINDIR}
         ${CMAKE_INSTALL_FULL_LIBDIR})
    set_target_properties(${target} PROPERTIES
      INSTALL_RPATH "$ORIGIN/${_rel}")
  endif()
endfunction()
