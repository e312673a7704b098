# Tests of the ARM LPAE formats (plugins/lpae).  Each binary links the
# format statically and registers it as a built-in plugin; test-lpae also
# loads the real module, hence the dependency.
iopgt_add_test(NAME lpae
  SOURCES test-lpae.c
  LIBS io-pgtable-arm-static
  DEPENDS io-pgtable-arm)
# The io-pgtable selftest as a matrix (141 runs): 0.1 s natively, 1.2 s
# under valgrind (gcc -O3), so it is not slow and has its twin.
iopgt_add_test(NAME lpae-selftest
  SOURCES test-lpae-selftest.c
  LIBS io-pgtable-arm-static)
iopgt_add_test(NAME lpae-random
  SOURCES test-lpae-random.c
  LIBS io-pgtable-arm-static)
iopgt_add_test(NAME lpae-threads
  SOURCES test-lpae-threads.c
  LIBS io-pgtable-arm-static
  LABELS threads)
# Fixed hot-path scenarios, the workload callgrind counts instructions of
# (label perf; see the file's header).  Natively an ordinary, quick test.
iopgt_add_test(NAME lpae-perf
  SOURCES test-lpae-perf.c
  LIBS io-pgtable-arm-static
  LABELS perf)
