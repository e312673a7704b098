# iopgt_add_test(NAME name SOURCES ... [LIBS ...] [LABELS ...] [DEPENDS ...]
#                [TIMEOUT s] [ARGS ...])
#
# One GLib test binary per behaviour area, registered as one CTest that
# speaks TAP.  The environment mirrors GLib's meson wiring.
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

# With IOPGT_VALGRIND=ON every single-threaded test is registered a second
# time as NAME-valgrind (label valgrind): memcheck with full leak checking,
# any error fails the test.  The probe's forked children are not checked:
# they hold a copy of the parent's heap and are thrown away.
option(IOPGT_VALGRIND "Also run the tests under valgrind memcheck" OFF)
find_program(VALGRIND_PROGRAM valgrind)
set(IOPGT_VALGRIND_ARGS --tool=memcheck --leak-check=full
  --errors-for-leak-kinds=definite,indirect --error-exitcode=99
  --child-silent-after-fork=yes
  --suppressions=${CMAKE_SOURCE_DIR}/tests/valgrind.supp --num-callers=30)

function(iopgt_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;DEPENDS;ARGS" ${ARGN})
  set(exe test-${T_NAME})
  add_executable(${exe} ${T_SOURCES})
  target_link_libraries(${exe} PRIVATE iopgt-test-lib ${T_LIBS})
  set_target_properties(${exe} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
  if(T_DEPENDS)
    add_dependencies(${exe} ${T_DEPENDS})
  endif()
  add_test(NAME ${T_NAME} COMMAND ${exe} --tap ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES
    ENVIRONMENT "${IOPGT_TEST_ENV}"
    LABELS "${T_LABELS}"
    TIMEOUT ${T_TIMEOUT})
  if(IOPGT_VALGRIND AND VALGRIND_PROGRAM AND NOT "threads" IN_LIST T_LABELS
     AND NOT "slow" IN_LIST T_LABELS)
    add_test(NAME ${T_NAME}-valgrind
      COMMAND ${VALGRIND_PROGRAM} ${IOPGT_VALGRIND_ARGS} $<TARGET_FILE:${exe}>
              --tap ${T_ARGS})
    set_tests_properties(${T_NAME}-valgrind PROPERTIES
      ENVIRONMENT "${IOPGT_TEST_ENV}"
      LABELS "valgrind;${T_LABELS}"
      TIMEOUT 900)
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
