# /host/manifest/*: softdep manifest parser and load planner.  Fixture
# manifests live in tests/fixtures/conf (found through G_TEST_SRCDIR).
iopgt_add_test(NAME host-manifest SOURCES test-manifest.c)
# /host/cache/*: the probe and metadata cache file (temp dirs only).
iopgt_add_test(NAME host-cache SOURCES test-cache.c)
