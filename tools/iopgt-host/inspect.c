// SPDX-License-Identifier: MIT
/*
 * iopgt-host inspect: tables built elsewhere, from ELF cores and raw
 * memory files (docs/inspect.md).  A client of the library's inspector:
 * this file parses the command's own options, adds the sources and
 * registers, and prints what translate, walk and check return.
 */
#include <errno.h>
#include <string.h>

#include "inspect.h"

struct inspect_opts {
	char *format;
	char **regs;
	char **images;
	char *access;
	gboolean json;
};

static void inspect_opts_clear(struct inspect_opts *o)
{
	g_free(o->format);
	g_strfreev(o->regs);
	g_strfreev(o->images);
	g_free(o->access);
}

static int inspect_usage(const char *fmt, const char *arg)
{
	g_autofree char *safe = arg ? cli_escape(arg) : NULL;
	g_autofree char *msg = g_strdup_printf(fmt, safe);

	cli_err("iopgt-host: inspect: %s\nTry 'iopgt-host help inspect'.\n",
		msg);
	return EXIT_USAGE;
}

/* "K=V,K=V": each value a number as the script takes them. */
static int add_regs(struct iopgt_inspect *insp, const char *list)
{
	g_auto(GStrv) pairs = g_strsplit(list, ",", -1);

	for (char **p = pairs; *p; p++) {
		g_auto(GStrv) kv = g_strsplit(*p, "=", 2);
		uint64_t v;

		if (!kv[0] || !kv[1] || !*kv[0] ||
		    !cli_parse_u64(kv[1], &v, NULL))
			return inspect_usage("--regs: '%s' is not KEY=NUMBER",
					     *p);
		iopgt_inspect_set_reg(insp, kv[0], v);
	}
	return 0;
}

/* FILE@PA is a raw memory file; FILE alone an ELF core. */
static int add_image(struct iopgt_inspect *insp, const char *arg)
{
	const char *at = strrchr(arg, '@');
	g_autofree char *path = NULL;
	uint64_t pa;

	if (at && cli_parse_u64(at + 1, &pa, NULL)) {
		path = g_strndup(arg, (gsize)(at - arg));
		return iopgt_inspect_add_raw(insp, path, pa) ? EXIT_FAILED : 0;
	}
	return iopgt_inspect_add_core(insp, arg) ? EXIT_FAILED : 0;
}

/* "r", "w" or "x", then ",priv" for a privileged access. */
static bool parse_access(const char *s, unsigned int *access)
{
	static const char *const names[] = { "r", "w", "x" };
	g_auto(GStrv) parts = g_strsplit(s ? s : "r", ",", -1);

	*access = 0;
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		if (parts[0] && !strcmp(parts[0], names[i]))
			*access = 1U << i;
	if (!*access)
		return false;
	if (parts[0] && parts[1]) {
		if (strcmp(parts[1], "priv") || parts[2])
			return false;
		*access |= IOPGT_ACCESS_PRIV;
	}
	return true;
}

static char *prot_text(int prot)
{
	return g_strdup_printf("%c%c%c%s%s%s", prot & IOMMU_READ ? 'r' : '-',
			       prot & IOMMU_WRITE ? 'w' : '-',
			       prot & IOMMU_NOEXEC ? '-' : 'x',
			       prot & IOMMU_CACHE ? " cache" : "",
			       prot & IOMMU_MMIO ? " mmio" : "",
			       prot & IOMMU_PRIV ? " priv" : "");
}

static void translate_json(struct cli *cli, uint64_t iova,
			   const struct iopgt_xlate *x)
{
	struct cli_json *j = cli_json_new();

	cli_json_begin_object(j, NULL);
	cli_json_u64(j, "iova", iova);
	cli_json_string(j, "fault", iopgt_fault_name(x->fault));
	cli_json_int(j, "level", x->level);
	cli_json_u64(j, "desc", x->desc);
	if (x->desc_pa != UINT64_MAX)
		cli_json_u64(j, "desc_pa", x->desc_pa);
	if (x->fault == IOPGT_FAULT_NONE) {
		cli_json_u64(j, "pa", x->oa);
		cli_json_u64(j, "base", x->base);
		cli_json_u64(j, "size", x->size);
		cli_json_int(j, "prot", x->prot);
		cli_json_u64(j, "memattr", x->memattr);
		cli_json_u64(j, "sh", x->sh);
		cli_json_bool(j, "ns", x->ns);
	}
	cli_json_end_object(j);
	cli_json_print(cli, j);
}

static void translate_text(struct cli *cli, uint64_t iova,
			   const struct iopgt_xlate *x)
{
	g_autofree char *where = x->desc_pa == UINT64_MAX ?
		g_strdup("no descriptor read") :
		g_strdup_printf("desc 0x%016" G_GINT64_MODIFIER "x at PA 0x%"
				G_GINT64_MODIFIER "x", x->desc, x->desc_pa);
	g_autofree char *prot = prot_text(x->prot);
	g_autofree char *size = cli_format_size(x->size);

	if (x->fault != IOPGT_FAULT_NONE) {
		fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x: %s fault at "
			"level %d, %s\n", iova, iopgt_fault_name(x->fault),
			x->level, where);
		return;
	}
	fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER
		"x: %s at level %d, %s, memattr 0x%02x, sh %u%s, %s\n", iova,
		x->oa, size, x->level, prot, x->memattr, x->sh,
		x->ns ? ", ns" : "", where);
}

static int cmd_translate(struct cli *cli, struct iopgt_inspect *insp,
			 int argc, char **argv, const char *access_arg)
{
	struct iopgt_xlate x;
	unsigned int access;
	uint64_t iova;

	if (argc != 2 || !cli_parse_u64(argv[1], &iova, NULL))
		return inspect_usage("usage: translate IOVA%s", "");
	if (!parse_access(access_arg, &access))
		return inspect_usage("--access: '%s' is not r, w or x with "
				     "an optional ',priv'", access_arg);
	if (iopgt_inspect_translate(insp, iova, access, &x))
		return EXIT_FAILED;
	if (cli->json)
		translate_json(cli, iova, &x);
	else
		translate_text(cli, iova, &x);
	return x.fault == IOPGT_FAULT_NONE ? EXIT_OK : EXIT_FAILED;
}

static int dump_entry_text(void *data, const struct iopgt_walk_entry *e)
{
	struct cli *cli = data;
	g_autofree char *size = cli_format_size(e->size);
	g_autofree char *prot = prot_text(e->prot);

	fprintf(cli->out, "%*sL%d[%u] 0x%" G_GINT64_MODIFIER "x %s ",
		2 * e->level, "", e->level, e->index, (uint64_t)e->iova, size);
	if (e->kind == IOPGT_ENTRY_TABLE)
		fprintf(cli->out, "table 0x%" G_GINT64_MODIFIER "x\n", e->oa);
	else
		fprintf(cli->out, "-> 0x%" G_GINT64_MODIFIER "x %s (0x%016"
			G_GINT64_MODIFIER "x)\n", e->oa, prot, e->raw);
	return 0;
}

static int dump_entry_json(void *data, const struct iopgt_walk_entry *e)
{
	struct cli_json *j = data;

	cli_json_begin_object(j, NULL);
	cli_json_int(j, "level", e->level);
	cli_json_u64(j, "index", e->index);
	cli_json_u64(j, "iova", e->iova);
	cli_json_u64(j, "size", e->size);
	cli_json_string(j, "kind", e->kind == IOPGT_ENTRY_LEAF ? "leaf" :
								 "table");
	cli_json_u64(j, "raw", e->raw);
	cli_json_u64(j, "oa", e->oa);
	if (e->kind == IOPGT_ENTRY_LEAF)
		cli_json_int(j, "prot", e->prot);
	cli_json_end_object(j);
	return 0;
}

static int cmd_dump(struct cli *cli, struct iopgt_inspect *insp, int argc,
		    char **argv)
{
	bool json = cli->json || (argc == 2 && !strcmp(argv[1], "json"));
	int ret;

	if (argc > 2 || (argc == 2 && strcmp(argv[1], "json") &&
			 strcmp(argv[1], "tree")))
		return inspect_usage("usage: dump [tree|json]%s", "");
	if (json) {
		static const struct iopgt_walk_ops ops = {
			.entry = dump_entry_json,
		};
		struct cli_json *j = cli_json_new();

		cli_json_begin_object(j, NULL);
		cli_json_string(j, "format", iopgt_inspect_get_format(insp));
		cli_json_begin_array(j, "entries");
		ret = iopgt_inspect_walk(insp, &ops, j);
		cli_json_end_array(j);
		cli_json_end_object(j);
		cli_json_print(cli, j);
	} else {
		static const struct iopgt_walk_ops ops = {
			.entry = dump_entry_text,
		};

		fprintf(cli->out, "%s\n", iopgt_inspect_get_format(insp));
		ret = iopgt_inspect_walk(insp, &ops, cli);
	}
	return ret ? EXIT_FAILED : EXIT_OK;
}

struct check_out {
	struct cli *cli;
	struct cli_json *j;
};

static void problem_out(void *data, const struct iopgt_problem_report *r)
{
	struct check_out *c = data;

	if (!c->j) {
		fprintf(c->cli->out, "%s: level %d table 0x%" G_GINT64_MODIFIER
			"x entry %u (0x%016" G_GINT64_MODIFIER "x): %s "
			"(0x%" G_GINT64_MODIFIER "x)\n",
			iopgt_problem_name(r->kind), r->level, r->table_pa,
			r->index, r->desc, r->what, r->addr);
		return;
	}
	cli_json_begin_object(c->j, NULL);
	cli_json_string(c->j, "problem", iopgt_problem_name(r->kind));
	cli_json_int(c->j, "level", r->level);
	cli_json_u64(c->j, "table", r->table_pa);
	cli_json_u64(c->j, "index", r->index);
	cli_json_u64(c->j, "desc", r->desc);
	cli_json_u64(c->j, "addr", r->addr);
	cli_json_string(c->j, "what", r->what);
	cli_json_end_object(c->j);
}

static int cmd_check(struct cli *cli, struct iopgt_inspect *insp, int argc)
{
	struct check_out c = { cli, cli->json ? cli_json_new() : NULL };
	int n;

	if (argc != 1) {
		cli_json_free(c.j);
		return inspect_usage("usage: check%s", "");
	}
	if (c.j) {
		cli_json_begin_object(c.j, NULL);
		cli_json_begin_array(c.j, "problems");
	}
	n = iopgt_inspect_check(insp, problem_out, &c);
	if (c.j) {
		cli_json_end_array(c.j);
		cli_json_int(c.j, "count", n);
		cli_json_end_object(c.j);
		cli_json_print(cli, c.j);
	} else if (n == 0) {
		fprintf(cli->out, "no problems\n");
	}
	return n == 0 ? EXIT_OK : EXIT_FAILED;
}

static GOptionContext *inspect_context(struct inspect_opts *o)
{
	const GOptionEntry entries[] = {
		{ "format", 0, 0, G_OPTION_ARG_STRING, &o->format,
		  "The format (default: the image note's)", "FMT" },
		{ "regs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->regs,
		  "Registers and cfg keys (repeatable)", "K=V[,K=V...]" },
		{ "image", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->images,
		  "An ELF core, or a raw memory file at PA (repeatable)",
		  "FILE[@PA]" },
		{ "access", 0, 0, G_OPTION_ARG_STRING, &o->access,
		  "translate's access (default r)", "r|w|x[,priv]" },
		{ "json", 0, 0, G_OPTION_ARG_NONE, &o->json,
		  "JSON output", NULL },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new("COMMAND [ARG]");

	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_add_main_entries(ctx, entries, NULL);
	return ctx;
}

static int inspect_run(struct cli *cli, struct inspect_opts *o, int argc,
		       char **argv)
{
	struct iopgt_inspect *insp = NULL;
	const char *cmd = argv[1];
	int status = EXIT_FAILED;
	int ret;

	iopgt_inspect_new(cli->host, &insp);
	for (char **i = o->images; *i; i++) {
		status = add_image(insp, *i);
		if (status)
			goto out_free;
	}
	for (char **r = o->regs; r && *r; r++) {
		status = add_regs(insp, *r);
		if (status)
			goto out_free;
	}
	status = EXIT_FAILED;
	ret = iopgt_inspect_open(insp, o->format);
	if (ret) {
		/* the host or the format logged the reason just before */
		cli_err("iopgt-host: inspect: cannot read the tables: %s\n",
			g_strerror(-ret));
		goto out_free;
	}
	cli->json |= o->json;
	if (!strcmp(cmd, "translate"))
		status = cmd_translate(cli, insp, argc - 1, argv + 1,
				       o->access);
	else if (!strcmp(cmd, "dump"))
		status = cmd_dump(cli, insp, argc - 1, argv + 1);
	else
		status = cmd_check(cli, insp, argc - 1);
out_free:
	iopgt_inspect_free(insp);
	return status;
}

int cli_inspect(struct cli *cli, int argc, char **argv)
{
	struct inspect_opts o = { 0 };
	GOptionContext *ctx = inspect_context(&o);
	g_autoptr(GError) error = NULL;
	int status;

	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		status = inspect_usage("%s", error->message);
	} else if (!o.images) {
		status = inspect_usage("--image FILE[@PA] is needed%s", "");
	} else if (argc < 2 || (strcmp(argv[1], "translate") &&
				strcmp(argv[1], "dump") &&
				strcmp(argv[1], "check"))) {
		status = inspect_usage("COMMAND is translate, dump or check%s",
				       "");
	} else {
		iopgt_host_scan(cli->host);
		status = inspect_run(cli, &o, argc, argv);
	}
	g_option_context_free(ctx);
	inspect_opts_clear(&o);
	return status;
}
