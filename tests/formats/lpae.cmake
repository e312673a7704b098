# Tests of the ARM LPAE formats (plugins/lpae).  Each binary links the
# format statically and registers it as a built-in plugin; test-lpae also
# loads the real module, hence the dependency.
iopgt_add_test(NAME lpae
  SOURCES test-lpae.c
  LIBS io-pgtable-arm-static
  DEPENDS io-pgtable-arm)
# The selftest matrix (141 runs) is labelled slow, as the house style asks
# of parameter matrices; it takes about a second under valgrind anyway.
iopgt_add_test(NAME lpae-selftest
  SOURCES test-lpae-selftest.c
  LIBS io-pgtable-arm-static
  LABELS slow)
iopgt_add_test(NAME lpae-random
  SOURCES test-lpae-random.c
  LIBS io-pgtable-arm-static)
iopgt_add_test(NAME lpae-threads
  SOURCES test-lpae-threads.c
  LIBS io-pgtable-arm-static
  LABELS threads)
# Fixed hot-path scenarios; run under callgrind for instructions per op
# (see the file's header).  Natively an ordinary, quick test.
iopgt_add_test(NAME lpae-perf
  SOURCES test-lpae-perf.c
  LIBS io-pgtable-arm-static
  LABELS perf)
