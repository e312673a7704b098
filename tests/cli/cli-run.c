// SPDX-License-Identifier: MIT
/* Running the built iopgt-host for the CLI tests (cli-run.h). */
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "cli-run.h"

void cli_run_clear(struct cli_run *r)
{
	g_free(r->out);
	g_free(r->err);
}

static char *bytes_to_str(GBytes *b)
{
	gsize n = 0;
	const char *d = b ? g_bytes_get_data(b, &n) : NULL;

	return d ? g_strndup(d, n) : g_strdup("");
}

static void add_all(GPtrArray *argv, const char *const *list)
{
	for (const char *const *a = list; a && *a; a++)
		g_ptr_array_add(argv, (gpointer)*a);
}

void cli_run(struct cli_run *r, const char *cwd, const char *input,
	     const char *plugin_dir, const char *const *first,
	     const char *const *args)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocessLauncher) l = NULL;
	g_autoptr(GSubprocess) p = NULL;
	g_autoptr(GBytes) out = NULL, err = NULL;
	g_autofree char *in_path = NULL;
	int in_fd;

	g_ptr_array_add(argv, (gpointer)g_getenv("IOPGT_TEST_CLI"));
	if (plugin_dir) {
		g_ptr_array_add(argv, "--plugin-dir");
		g_ptr_array_add(argv, (gpointer)plugin_dir);
	}
	add_all(argv, first);
	add_all(argv, args);
	g_ptr_array_add(argv, NULL);

	/* stdin from a file, not a pipe: a CLI that exits before reading it
	 * (a usage error) must not race the writer into EPIPE */
	in_fd = g_file_open_tmp("iopgt-cli-in-XXXXXX", &in_path, &error);
	g_assert_no_error(error);
	close(in_fd);
	g_assert_true(g_file_set_contents(in_path, input ? input : "", -1,
					  NULL));
	l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
				      G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_set_stdin_file_path(l, in_path);
	g_subprocess_launcher_set_cwd(l, cwd);
	g_subprocess_launcher_unsetenv(l, "IOPGT_LOG");
	p = g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata,
					 &error);
	g_assert_no_error(error);
	g_subprocess_communicate(p, NULL, NULL, &out, &err, &error);
	g_assert_no_error(error);
	g_unlink(in_path);
	r->status = g_subprocess_get_if_exited(p) ?
		    g_subprocess_get_exit_status(p) : 128;
	r->out = bytes_to_str(out);
	r->err = bytes_to_str(err);
}
