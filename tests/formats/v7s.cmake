# Tests of the ARM v7 short-descriptor format (plugins/v7s).  Each binary
# links the format statically and registers it as a built-in plugin; the
# plugin-file test also loads the real module, hence the dependency.
iopgt_add_test(NAME v7s
  SOURCES test-v7s.c
  LIBS io-pgtable-arm-v7s-static
  DEPENDS io-pgtable-arm-v7s)
iopgt_add_test(NAME v7s-random
  SOURCES test-v7s-random.c
  LIBS io-pgtable-arm-v7s-static)
iopgt_add_test(NAME v7s-threads
  SOURCES test-v7s-threads.c
  LIBS io-pgtable-arm-v7s-static
  LABELS threads)

# Callgrind workload for the instruction budgets (docs/formats/v7s.md).
iopgt_add_test(NAME v7s-perf
  SOURCES test-v7s-perf.c
  LIBS io-pgtable-arm-v7s-static
  LABELS perf)
