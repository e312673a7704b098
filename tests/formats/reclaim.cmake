# Table memory under a long map/unmap churn, with and without
# IOPGT_QUIRK_RECLAIM_TABLES: the figures of docs/performance.md, "Reclaim
# of empty tables" (label perf; CTest's run is the short one, 0.05 s).
# Loads both format modules, hence the dependencies.
iopgt_add_test(NAME reclaim-churn
  SOURCES test-reclaim-churn.c
  DEPENDS io-pgtable-arm io-pgtable-arm-v7s
  LABELS perf)
