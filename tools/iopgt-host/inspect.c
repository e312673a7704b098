// SPDX-License-Identifier: MIT
/*
 * iopgt-host inspect: tables built elsewhere, from ELF cores and raw
 * memory files (docs/inspect.md).  A client of the library's inspector:
 * this file parses the command's own options, judges them before any
 * file is opened, adds the sources and registers (through a stage 2 with
 * --stage2), and prints what translate and check return; dump and diff
 * are in inspect-dump.c and inspect-diff.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "inspect.h"
#include "inspect-map.h"

struct inspect_opts {
	char *format;
	char **regs;
	char **images;
	char *access;
	gboolean json;
	/* diff: the second state (defaults: --format and --regs) */
	char **images2;
	char **regs2;
	char *format2;
	/* nested: the images are stage 2's physical memory */
	char *stage2;
	char **s2_regs;
};

static void inspect_opts_clear(struct inspect_opts *o)
{
	g_free(o->format);
	g_strfreev(o->regs);
	g_strfreev(o->images);
	g_free(o->access);
	g_strfreev(o->images2);
	g_strfreev(o->regs2);
	g_free(o->format2);
	g_free(o->stage2);
	g_strfreev(o->s2_regs);
}

/* A malformed command line: the line saying why, then the hint. */
static int inspect_usage(const char *fmt, const char *arg)
{
	g_autofree char *msg = g_strdup_printf(fmt, arg);

	insp_err("%s", msg);
	cli_err("Try 'iopgt-host help inspect'.\n");
	return EXIT_USAGE;
}

/* ---- registers and sources ----------------------------------------------- */

/* "K=V,K=V": each value a number as the script takes them; a NULL insp
 * only checks.  Returns: 0, or EXIT_USAGE after naming option and pair. */
static int parse_regs(const char *option, const char *list,
		      struct iopgt_inspect *insp)
{
	g_auto(GStrv) pairs = g_strsplit(list, ",", -1);

	for (char **p = pairs; *p; p++) {
		g_auto(GStrv) kv = g_strsplit(*p, "=", 2);
		g_autofree char *fmt = NULL;
		uint64_t v;

		if (!kv[0] || !kv[1] || !*kv[0] ||
		    !cli_parse_u64(kv[1], &v, NULL)) {
			fmt = g_strdup_printf("%s: '%%s' is not KEY=NUMBER",
					      option);
			return inspect_usage(fmt, *p);
		}
		if (insp)
			iopgt_inspect_set_reg(insp, kv[0], v);
	}
	return 0;
}

static int parse_reg_lists(const char *option, char **lists,
			   struct iopgt_inspect *insp)
{
	for (char **l = lists; l && *l; l++) {
		int status = parse_regs(option, *l, insp);

		if (status)
			return status;
	}
	return 0;
}

/*
 * While sources are added and a format opened, an error the host logs is
 * kept rather than printed, so that the one line the user sees names the
 * option too; warnings (a truncated core, a missing register) go out as
 * they come.
 */
struct quiet_log {
	struct cli *cli;
	char *err;
};

static void quiet_log(void *data, int priority, const char *file, int line,
		      const char *fn, const char *format, va_list args)
{
	struct quiet_log *q = data;

	if (priority > IOPGT_LOG_ERR) {
		cli_log(q->cli, priority, file, line, fn, format, args);
		return;
	}
	g_free(q->err);
	q->err = g_strchomp(g_strdup_vprintf(format, args));
}

static void quiet_begin(struct quiet_log *q, struct cli *cli)
{
	*q = (struct quiet_log){ .cli = cli };
	iopgt_host_set_log_fn(cli->host, quiet_log, q);
}

static void quiet_end(struct quiet_log *q)
{
	iopgt_host_set_log_fn(q->cli->host, cli_log, q->cli);
	g_free(q->err);
	q->err = NULL;
}

/* FILE@PA is a raw memory file; FILE alone an ELF core. */
static int add_image(struct iopgt_inspect *insp, const char *arg)
{
	const char *at = strrchr(arg, '@');
	g_autofree char *path = NULL;
	uint64_t pa;

	if (at && cli_parse_u64(at + 1, &pa, NULL)) {
		path = g_strndup(arg, (gsize)(at - arg));
		return iopgt_inspect_add_raw(insp, path, pa);
	}
	return iopgt_inspect_add_core(insp, arg);
}

/* Every FILE[@PA] of option.  Returns: 0, or EXIT_USAGE after one line
 * naming the option, the file and the reason. */
static int add_images(struct cli *cli, struct iopgt_inspect *insp,
		      const char *option, char **images)
{
	struct quiet_log q;
	int ret = 0;

	quiet_begin(&q, cli);
	for (char **i = images; *i && !ret; i++) {
		ret = add_image(insp, *i);
		if (ret && !q.err)
			q.err = g_strdup_printf("%s: %s", *i,
						cli_strerror(-ret));
	}
	if (ret)
		insp_err("%s: %s", option, q.err);
	quiet_end(&q);
	return ret ? EXIT_USAGE : 0;
}

/*
 * Open insp as format (NULL: the note's); what names the tables in the
 * message.  No such format, or none at all, is a usage error naming
 * option.  Returns: 0 or an exit status.
 */
static int open_tables(struct cli *cli, struct iopgt_inspect *insp,
		       const char *format, const char *option,
		       const char *what)
{
	struct quiet_log q;
	int status = 0;
	int ret;

	quiet_begin(&q, cli);
	ret = iopgt_inspect_open(insp, format);
	if (ret == -ENOENT) {
		if (format)
			insp_err("%s: no plugin provides format '%s'", option,
				 format);
		else
			insp_err("%s: none given, and no image note names a "
				 "format", option);
		status = EXIT_USAGE;
	} else if (ret) {
		/* the format's reason, then ours */
		if (q.err) {
			g_autofree char *safe = cli_escape(q.err);

			cli_err("iopgt-host: %s\n", safe);
		}
		insp_err("cannot read %s: %s", what, g_strerror(-ret));
		status = EXIT_FAILED;
	}
	quiet_end(&q);
	return status;
}

/* A state read from images: new, sources, registers, open. */
static int open_state(struct cli *cli, const char *image_opt, char **images,
		      const char *regs_opt, char **regs, const char *format,
		      const char *format_opt, const char *what,
		      struct iopgt_inspect **out)
{
	struct iopgt_inspect *insp = NULL;
	int status;

	*out = NULL;
	if (iopgt_inspect_new(cli->host, &insp))
		return EXIT_FAILED;
	status = add_images(cli, insp, image_opt, images);
	if (!status)
		status = parse_reg_lists(regs_opt, regs, insp);
	if (!status)
		status = open_tables(cli, insp, format, format_opt, what);
	if (status)
		iopgt_inspect_free(insp);
	else
		*out = insp;
	return status;
}

/* Stage 1 (--format, --regs) over stage 2 (--stage2, --s2-regs), which
 * reads the images. */
static int open_nested(struct cli *cli, struct inspect_opts *o,
		       struct iopgt_inspect **out)
{
	struct iopgt_inspect *s1 = NULL, *s2;
	int status, ret;

	*out = NULL;
	status = open_state(cli, "--image", o->images, "--s2-regs", o->s2_regs,
			    o->stage2, "--stage2", "the stage-2 tables", &s2);
	if (status)
		return status;
	if (iopgt_inspect_new(cli->host, &s1)) {
		iopgt_inspect_free(s2);
		return EXIT_FAILED;
	}
	parse_reg_lists("--regs", o->regs, s1);
	/* s1 owns s2 from here, even on failure */
	ret = iopgt_inspect_set_stage2(s1, s2);
	if (ret) {
		insp_err("--stage2: cannot nest: %s", g_strerror(-ret));
		status = EXIT_FAILED;
	} else {
		status = open_tables(cli, s1, o->format, "--format",
				     "the stage-1 tables");
	}
	if (status)
		iopgt_inspect_free(s1);
	else
		*out = s1;
	return status;
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

/* ---- translate ----------------------------------------------------------- */

/* The members of one stage's result (docs/cli.md, inspect JSON). */
static void xlate_json(struct cli_json *j, const struct iopgt_xlate *x)
{
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
}

static void translate_json(struct cli *cli, uint64_t iova,
			   const struct iopgt_xlate *x)
{
	struct cli_json *j = cli_json_new();

	cli_json_begin_object(j, NULL);
	cli_json_u64(j, "iova", iova);
	xlate_json(j, x);
	cli_json_end_object(j);
	cli_json_print(cli, j);
}

/* "desc 0x... at PA 0x...": space is "PA" or "IPA", where it was read. */
static char *desc_text(const struct iopgt_xlate *x, const char *space)
{
	if (x->desc_pa == UINT64_MAX)
		return g_strdup("no descriptor read");
	return g_strdup_printf("desc 0x%016" G_GINT64_MODIFIER "x at %s 0x%"
			       G_GINT64_MODIFIER "x", x->desc, space,
			       x->desc_pa);
}

/* "2M at level 2, r-x cache, memattr 0xff, sh 3, desc ... at PA ..." */
static char *leaf_text(const struct iopgt_xlate *x, const char *space)
{
	g_autofree char *where = desc_text(x, space);
	g_autofree char *prot = insp_prot_text(x->prot);
	g_autofree char *size = cli_format_size(x->size);

	return g_strdup_printf("%s at level %d, %s, memattr 0x%02x, sh %u%s, "
			       "%s", size, x->level, prot, x->memattr, x->sh,
			       x->ns ? ", ns" : "", where);
}

static void translate_text(struct cli *cli, uint64_t iova,
			   const struct iopgt_xlate *x)
{
	g_autofree char *text = NULL;

	if (x->fault != IOPGT_FAULT_NONE) {
		text = desc_text(x, "PA");
		fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x: %s fault at "
			"level %d, %s\n", iova, iopgt_fault_name(x->fault),
			x->level, text);
		return;
	}
	text = leaf_text(x, "PA");
	fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER
		"x: %s\n", iova, x->oa, text);
}

/* ---- nested translate ---------------------------------------------------- */

static void nested_json(struct cli *cli, uint64_t iova,
			const struct iopgt_nested_xlate *n)
{
	struct cli_json *j = cli_json_new();

	cli_json_begin_object(j, NULL);
	cli_json_u64(j, "iova", iova);
	cli_json_int(j, "stage", n->stage);
	cli_json_bool(j, "s1_walk", n->s1_walk);
	if (n->s1_walk)
		cli_json_int(j, "s1_level", n->s1_level);
	cli_json_u64(j, "ipa", n->ipa);
	if (n->stage == 0)
		cli_json_u64(j, "pa", n->pa);
	cli_json_begin_object(j, "s1");
	xlate_json(j, &n->s1);
	cli_json_end_object(j);
	if (n->stage != 1) {
		cli_json_begin_object(j, "s2");
		xlate_json(j, &n->s2);
		cli_json_end_object(j);
	}
	cli_json_end_object(j);
	cli_json_print(cli, j);
}

/*
 * Translated: "IOVA -> PA (IPA 0x...)" and one line per stage.  A fault:
 * one line saying the stage, kind, level, the address it was for (an
 * IPA for both stages) and, for stage 2, whether it was fetching a
 * stage-1 table (which level) or translating the output.
 */
static void nested_text(struct cli *cli, uint64_t iova,
			const struct iopgt_nested_xlate *n)
{
	const struct iopgt_xlate *x = n->stage == 1 ? &n->s1 : &n->s2;
	g_autofree char *s1 = NULL, *s2 = NULL, *why = NULL;

	if (n->stage == 0) {
		s1 = leaf_text(&n->s1, "IPA");
		s2 = leaf_text(&n->s2, "PA");
		fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x -> 0x%"
			G_GINT64_MODIFIER "x (IPA 0x%" G_GINT64_MODIFIER "x)\n"
			"  stage 1: %s\n  stage 2: %s\n", iova, n->pa,
			n->s1.oa, s1, s2);
		return;
	}
	s1 = desc_text(x, n->stage == 1 ? "IPA" : "PA");
	if (n->stage == 1)
		why = g_strdup("");
	else if (n->s1_walk)
		why = g_strdup_printf(" for IPA 0x%" G_GINT64_MODIFIER "x "
				      "(fetching the stage-1 level %d table)",
				      n->ipa, n->s1_level);
	else
		why = g_strdup_printf(" for IPA 0x%" G_GINT64_MODIFIER "x "
				      "(the output)", n->ipa);
	fprintf(cli->out, "0x%" G_GINT64_MODIFIER "x: stage %d %s fault at "
		"level %d%s, %s\n", iova, n->stage, iopgt_fault_name(x->fault),
		x->level, why, s1);
}

static int cmd_translate(struct cli *cli, struct iopgt_inspect *insp,
			 bool nested, int argc, char **argv,
			 const char *access_arg)
{
	struct iopgt_nested_xlate n;
	struct iopgt_xlate x;
	unsigned int access;
	uint64_t iova;
	int ret;

	if (argc != 2 || !cli_parse_u64(argv[1], &iova, NULL))
		return inspect_usage("usage: translate IOVA%s", "");
	if (!parse_access(access_arg, &access))
		return inspect_usage("--access: '%s' is not r, w or x with "
				     "an optional ',priv'", access_arg);
	if (nested) {
		ret = iopgt_inspect_translate_nested(insp, iova, access, &n);
		if (ret)
			return EXIT_FAILED;
		if (cli->json)
			nested_json(cli, iova, &n);
		else
			nested_text(cli, iova, &n);
		return n.stage == 0 ? EXIT_OK : EXIT_FAILED;
	}
	if (iopgt_inspect_translate(insp, iova, access, &x))
		return EXIT_FAILED;
	if (cli->json)
		translate_json(cli, iova, &x);
	else
		translate_text(cli, iova, &x);
	return x.fault == IOPGT_FAULT_NONE ? EXIT_OK : EXIT_FAILED;
}

/* ---- dump and check ------------------------------------------------------ */

static int cmd_dump(struct cli *cli, struct iopgt_inspect *insp, int argc,
		    char **argv)
{
	static const char *const styles[] = {
		[INSP_DUMP_TREE] = "tree",
		[INSP_DUMP_JSON] = "json",
		[INSP_DUMP_DOT] = "dot",
	};
	enum insp_dump_style style = cli->json ? INSP_DUMP_JSON :
						 INSP_DUMP_TREE;
	size_t i;

	if (argc > 2)
		return inspect_usage("usage: dump [tree|json|dot]%s", "");
	if (argc < 2)
		return insp_dump(cli, insp, style);
	for (i = 0; i < G_N_ELEMENTS(styles); i++)
		if (!strcmp(argv[1], styles[i]))
			return insp_dump(cli, insp, (enum insp_dump_style)i);
	return inspect_usage("dump: '%s' is not tree, json or dot", argv[1]);
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
	struct check_out c = { cli, NULL };
	int n;

	if (argc != 1)
		return inspect_usage("usage: check%s", "");
	if (cli->json) {
		c.j = cli_json_new();
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

/* ---- options and commands ------------------------------------------------ */

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
		{ "image2", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->images2,
		  "diff: the second state's images (repeatable)",
		  "FILE[@PA]" },
		{ "regs2", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->regs2,
		  "diff: the second state's registers (default: --regs)",
		  "K=V[,K=V...]" },
		{ "format2", 0, 0, G_OPTION_ARG_STRING, &o->format2,
		  "diff: the second state's format (default: --format)",
		  "FMT" },
		{ "stage2", 0, 0, G_OPTION_ARG_STRING, &o->stage2,
		  "Nested: the images hold stage 2 of this format", "FMT" },
		{ "s2-regs", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->s2_regs,
		  "Nested: stage 2's registers (repeatable)",
		  "K=V[,K=V...]" },
		{ NULL },
	};
	GOptionContext *ctx = g_option_context_new("COMMAND [ARG]");

	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_add_main_entries(ctx, entries, NULL);
	return ctx;
}

static bool is_command(const char *cmd)
{
	static const char *const commands[] = {
		"translate", "dump", "check", "diff",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
		if (!strcmp(cmd, commands[i]))
			return true;
	return false;
}

/* An empty FMT is no name ("--format="), and one starting with '-' is
 * the next option, taken as the value ("--stage2 --format s1"). */
static int check_format_arg(const char *option, const char *fmt)
{
	g_autofree char *msg = NULL;

	if (!fmt || (*fmt && *fmt != '-'))
		return 0;
	msg = g_strdup_printf("%s: '%%s' is not a format name", option);
	return inspect_usage(msg, fmt);
}

/*
 * Everything that can be judged before a file is opened: one line naming
 * the option and the reason, exit 2.
 */
static int check_opts(struct inspect_opts *o, int argc, char **argv)
{
	bool diff = argc >= 2 && !strcmp(argv[1], "diff");
	int status;

	if (!o->images)
		return inspect_usage("--image FILE[@PA] is needed%s", "");
	/* before COMMAND: "--stage2 --format F translate" took --format */
	status = check_format_arg("--format", o->format);
	if (!status)
		status = check_format_arg("--format2", o->format2);
	if (!status)
		status = check_format_arg("--stage2", o->stage2);
	if (status)
		return status;
	if (argc < 2 || !is_command(argv[1]))
		return inspect_usage("COMMAND is translate, dump, check or "
				     "diff%s", "");
	if (!diff && (o->images2 || o->regs2 || o->format2))
		return inspect_usage("%s applies to diff only", o->images2 ?
				     "--image2" : o->regs2 ? "--regs2" :
				     "--format2");
	if (diff && !o->images2)
		return inspect_usage("diff needs --image2 FILE[@PA]%s", "");
	if (diff && argc != 2)
		return inspect_usage("usage: diff (the second state is "
				     "--image2)%s", "");
	if (o->s2_regs && !o->stage2)
		return inspect_usage("--s2-regs needs --stage2 FMT%s", "");
	if (o->stage2 && diff)
		return inspect_usage("--stage2 applies to translate, dump and "
				     "check%s", "");
	if (o->stage2 && !o->format)
		return inspect_usage("--stage2 needs --format (stage 1's "
				     "format)%s", "");
	status = parse_reg_lists("--regs", o->regs, NULL);
	if (!status)
		status = parse_reg_lists("--regs2", o->regs2, NULL);
	if (!status)
		status = parse_reg_lists("--s2-regs", o->s2_regs, NULL);
	return status;
}

static int run_diff(struct cli *cli, struct inspect_opts *o,
		    struct iopgt_inspect *a)
{
	struct iopgt_inspect *b = NULL;
	int status;

	status = open_state(cli, "--image2", o->images2, "--regs2",
			    o->regs2 ? o->regs2 : o->regs,
			    o->format2 ? o->format2 : o->format,
			    "--format2",
			    "the second state's tables", &b);
	if (status)
		return EXIT_USAGE;	/* diff(1): trouble is 2 */
	status = insp_diff(cli, a, b);
	iopgt_inspect_free(b);
	return status;
}

static int inspect_run(struct cli *cli, struct inspect_opts *o, int argc,
		       char **argv)
{
	const char *cmd = argv[1];
	bool diff = !strcmp(cmd, "diff");
	struct iopgt_inspect *insp;
	int status;

	if (o->stage2)
		status = open_nested(cli, o, &insp);
	else
		status = open_state(cli, "--image", o->images, "--regs",
				    o->regs, o->format, "--format",
				    "the tables", &insp);
	if (status)
		return diff ? EXIT_USAGE : status;
	cli->json |= o->json;
	if (!strcmp(cmd, "translate"))
		status = cmd_translate(cli, insp, o->stage2, argc - 1,
				       argv + 1, o->access);
	else if (!strcmp(cmd, "dump"))
		status = cmd_dump(cli, insp, argc - 1, argv + 1);
	else if (diff)
		status = run_diff(cli, o, insp);
	else
		status = cmd_check(cli, insp, argc - 1);
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
	} else {
		status = check_opts(&o, argc, argv);
		if (!status) {
			iopgt_host_scan(cli->host);
			status = inspect_run(cli, &o, argc, argv);
		}
	}
	g_option_context_free(ctx);
	inspect_opts_clear(&o);
	return status;
}
