# iopgt_add_test(NAME name SOURCES ... [LIBS ...] [LABELS ...] [DEPENDS ...]
#                [TIMEOUT s] [ARGS ...] [NO_VALGRIND reason])
#
# One GLib test binary per behaviour area, test-NAME, registered as one
# CTest NAME that speaks TAP.  The environment mirrors GLib's meson wiring.
#
# iopgt_add_test_command(NAME name TARGET exe [LABELS ...] [TIMEOUT s]
#                        [ARGS ...] [NO_TAP] [NO_VALGRIND reason])
#
# The same for an executable built some other way (e.g. one that must link
# the shared library rather than iopgt-test-lib, or an installed tool run
# as a test).  NO_TAP: run it with ARGS only, no --tap.
#
# Labels say what a test does (docs/testing.md, "Labels"); threads marks
# the tests the TSan stage runs.  No label decides the valgrind twin: only
# NO_VALGRIND does, and it must say why.
#
# Included once, by the top-level CMakeLists.txt before any directory.
include_guard(GLOBAL)

set(IOPGT_TEST_ENV
  "G_TEST_SRCDIR=${CMAKE_SOURCE_DIR}/tests"
  "G_TEST_BUILDDIR=${CMAKE_BINARY_DIR}/tests"
  "IOPGT_PLUGIN_PATH="
  "IOPGT_TEST_PLUGIN_DIR=${IOPGT_PLUGIN_OUTPUT_DIR}"
  "IOPGT_TEST_FIXTURE_DIR=${CMAKE_BINARY_DIR}/tests/fixtures/plugins"
  "IOPGT_TEST_CLI=${CMAKE_BINARY_DIR}/${CMAKE_INSTALL_BINDIR}/iopgt-host"
  "IOPGT_TEST_SOURCE_ROOT=${CMAKE_SOURCE_DIR}"
  "XDG_CACHE_HOME=${CMAKE_BINARY_DIR}/tests/xdg-cache"
  "MALLOC_CHECK_=2"
  "MALLOC_PERTURB_=165"
  "G_DEBUG=gc-friendly"
  "G_SLICE=always-malloc")

# A plugin that crashes while probed: with gcc's ASan runtime the probe's
# child ends with "exited with status 1" (ASan keeps its SIGSEGV handler
# and reports), with clang 14's it is "killed by signal 11" (the child's
# SIG_DFL wins).  handle_segv=2 makes clang's runtime keep its handler
# too, so one expectation holds in both (tests/host/test-gallery.c).
set(IOPGT_TEST_ENV_MODIFICATION "")
if(CMAKE_C_COMPILER_ID STREQUAL "Clang" AND
   (IOPGT_SANITIZE MATCHES "address" OR IOPGT_FUZZ))
  set(IOPGT_TEST_ENV_MODIFICATION "ASAN_OPTIONS=string_append::handle_segv=2")
endif()

# With IOPGT_VALGRIND=ON every test is registered a second time as
# NAME-valgrind (label valgrind, plus the test's own): memcheck with full
# leak checking, any error fails the test.  The probe's forked children are
# not checked: they hold a copy of the parent's heap and are thrown away;
# nor are programs a test runs with exec (the CLI under test-cli).  A test
# without a twin says why with NO_VALGRIND; docs/testing.md lists them.
option(IOPGT_VALGRIND "Also run the tests under valgrind memcheck" OFF)
find_program(VALGRIND_PROGRAM valgrind)
if(IOPGT_VALGRIND AND NOT VALGRIND_PROGRAM)
  message(FATAL_ERROR "IOPGT_VALGRIND=ON but valgrind is not installed")
endif()
if(IOPGT_VALGRIND AND (IOPGT_SANITIZE OR IOPGT_FUZZ))
  message(FATAL_ERROR "IOPGT_VALGRIND=ON cannot check a sanitizer build")
endif()
set(IOPGT_VALGRIND_ARGS --tool=memcheck --leak-check=full
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99
  --child-silent-after-fork=yes
  --suppressions=${CMAKE_SOURCE_DIR}/tests/valgrind.supp --num-callers=30)

function(iopgt_add_test_command)
  cmake_parse_arguments(PARSE_ARGV 0 T "NO_TAP"
                        "NAME;TARGET;TIMEOUT;NO_VALGRIND" "LABELS;ARGS")
  if(NOT T_NAME OR NOT T_TARGET)
    message(FATAL_ERROR "iopgt_add_test_command: NAME and TARGET are required")
  endif()
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "iopgt_add_test_command(${T_NAME}): unknown "
                        "arguments ${T_UNPARSED_ARGUMENTS}")
  endif()
  # NO_VALGRIND with an empty reason would silently mean "twin".
  if("NO_VALGRIND" IN_LIST T_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "iopgt_add_test_command(${T_NAME}): NO_VALGRIND "
                        "needs a reason")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_NO_TAP)
    list(PREPEND T_ARGS --tap)
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_TARGET} ${T_ARGS})
  string(REPLACE ";" "," labels "${T_LABELS}")
  set_property(GLOBAL APPEND PROPERTY IOPGT_TEST_INDEX
               "${T_NAME}\t${T_TARGET}\t${labels}")
  set_tests_properties(${T_NAME} PROPERTIES
    ENVIRONMENT "${IOPGT_TEST_ENV}"
    ENVIRONMENT_MODIFICATION "${IOPGT_TEST_ENV_MODIFICATION}"
    LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT})
  if(IOPGT_VALGRIND AND NOT T_NO_VALGRIND)
    add_test(NAME ${T_NAME}-valgrind
      COMMAND ${VALGRIND_PROGRAM} ${IOPGT_VALGRIND_ARGS}
              $<TARGET_FILE:${T_TARGET}> ${T_ARGS})
    set_tests_properties(${T_NAME}-valgrind PROPERTIES
      ENVIRONMENT "${IOPGT_TEST_ENV}"
      LABELS "valgrind;${T_LABELS}"
      TIMEOUT 900)
  endif()
endfunction()

# build/tests/index.tsv, written once every directory is processed: one
# line per test registered above, "NAME<TAB>TARGET<TAB>LABEL,...<TAB>
# SOURCE,..." (sources as absolute paths), so a script can build just the
# programs of some tests before any exists (scripts/test.sh's TSan stage)
# and check that every test source is built into a test
# (scripts/check-tree.sh).
function(_iopgt_write_test_index)
  get_property(index GLOBAL PROPERTY IOPGT_TEST_INDEX)
  set(text "")
  foreach(line IN LISTS index)
    string(REGEX REPLACE "^[^\t]*\t([^\t]*)\t.*$" "\\1" target "${line}")
    get_target_property(srcs ${target} SOURCES)
    get_target_property(dir ${target} SOURCE_DIR)
    set(abs "")
    foreach(src IN LISTS srcs)
      get_filename_component(src "${src}" ABSOLUTE BASE_DIR "${dir}")
      list(APPEND abs "${src}")
    endforeach()
    list(JOIN abs "," abs)
    string(APPEND text "${line}\t${abs}\n")
  endforeach()
  file(CONFIGURE OUTPUT ${CMAKE_BINARY_DIR}/tests/index.tsv
       CONTENT "${text}" @ONLY)
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} ID iopgt_test_index
               CALL _iopgt_write_test_index)

function(iopgt_add_test)
  cmake_parse_arguments(PARSE_ARGV 0 T "" "NAME;TIMEOUT;NO_VALGRIND"
                        "SOURCES;LIBS;LABELS;DEPENDS;ARGS")
  if(T_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "iopgt_add_test(${T_NAME}): unknown arguments "
                        "${T_UNPARSED_ARGUMENTS}")
  endif()
  set(exe test-${T_NAME})
  add_executable(${exe} ${T_SOURCES})
  target_link_libraries(${exe} PRIVATE iopgt-test-lib ${T_LIBS})
  set_target_properties(${exe} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(T_DEPENDS)
    add_dependencies(${exe} ${T_DEPENDS})
  endif()
  if("NO_VALGRIND" IN_LIST T_KEYWORDS_MISSING_VALUES)
    message(FATAL_ERROR "iopgt_add_test(${T_NAME}): NO_VALGRIND needs a "
                        "reason")
  endif()
  set(common NAME ${T_NAME} TARGET ${exe} LABELS ${T_LABELS} ARGS ${T_ARGS})
  if(T_TIMEOUT)
    list(APPEND common TIMEOUT ${T_TIMEOUT})
  endif()
  if(T_NO_VALGRIND)
    # Passed quoted, not through the list: the reason may hold a ';'.
    iopgt_add_test_command(${common} NO_VALGRIND "${T_NO_VALGRIND}")
  else()
    iopgt_add_test_command(${common})
  endif()
endfunction()

# iopgt_add_fixture_plugin(NAME name SOURCES ...): a test-only plugin built
# into tests/fixtures/plugins, never installed.
function(iopgt_add_fixture_plugin)
  cmake_parse_arguments(F "" "NAME;DIR" "SOURCES;LINK_OPTIONS;LIBS" ${ARGN})
  if(NOT F_DIR)
    set(F_DIR ${CMAKE_BINARY_DIR}/tests/fixtures/plugins)
  endif()
  add_library(${F_NAME} MODULE ${F_SOURCES})
  target_link_libraries(${F_NAME} PRIVATE iopgt::plugin-api ${F_LIBS})
  set_target_properties(${F_NAME} PROPERTIES
    PREFIX "" C_VISIBILITY_PRESET hidden LIBRARY_OUTPUT_DIRECTORY ${F_DIR})
  if(F_LINK_OPTIONS)
    target_link_options(${F_NAME} PRIVATE ${F_LINK_OPTIONS})
  endif()
  set_property(GLOBAL APPEND PROPERTY IOPGT_FIXTURE_PLUGINS ${F_NAME})
endfunction()
