/* SPDX-License-Identifier: MIT */
/*
 * The GError edge of libiopgt-host, for programs that use GLib.  Everything
 * here is also available without GLib in <iopgt/host.h>.
 */
#ifndef IOPGT_HOST_GLIB_H
#define IOPGT_HOST_GLIB_H

#include <glib.h>

#include <iopgt/host.h>

G_BEGIN_DECLS

#define IOPGT_MANIFEST_ERROR (iopgt_manifest_error_quark())
GQuark iopgt_manifest_error_quark(void);
enum iopgt_manifest_error {
	IOPGT_MANIFEST_ERROR_IO,	/* cannot read the file */
	IOPGT_MANIFEST_ERROR_PARSE,	/* "FILE:LINE: message" */
};

/*
 * iopgt_host_add_manifest() with the first problem in *error
 * (IOPGT_MANIFEST_ERROR_IO: the file could not be read;
 * IOPGT_MANIFEST_ERROR_PARSE: "FILE:LINE: message").
 * Returns: TRUE if every line was good.
 */
gboolean iopgt_host_load_manifest(struct iopgt_host *host, const char *path,
				  GError **error);

G_END_DECLS

#endif /* IOPGT_HOST_GLIB_H */
