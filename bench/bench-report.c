// SPDX-License-Identifier: MIT
/*
 * What every section of iopgt-bench reports through: sizes, statistics,
 * progress on a terminal, and the rows as aligned text or one JSON
 * document.  Called by the sections and by main; calls nothing of theirs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include "bench.h"

/* ---- sizes --------------------------------------------------------------- */

gboolean bench_parse_size(const char *s, uint64_t *out, GError **error)
{
	static const char suffixes[] = "KMGT";
	guint64 v;
	char *end;

	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (end == s || errno) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "'%s' is not a size", s);
		return FALSE;
	}
	if (*end) {
		const char *p = strchr(suffixes, g_ascii_toupper(*end));

		if (!p || (end[1] && g_ascii_strcasecmp(end + 1, "iB") &&
			   g_ascii_strcasecmp(end + 1, "B"))) {
			g_set_error(error, G_OPTION_ERROR,
				    G_OPTION_ERROR_BAD_VALUE,
				    "'%s': unknown suffix (K, M, G, T)", s);
			return FALSE;
		}
		for (int i = 0; i <= p - suffixes; i++) {
			if (v > G_MAXUINT64 / 1024) {
				g_set_error(error, G_OPTION_ERROR,
					    G_OPTION_ERROR_BAD_VALUE,
					    "'%s' is too large", s);
				return FALSE;
			}
			v *= 1024;
		}
	}
	*out = v;
	return TRUE;
}

char *bench_format_size(uint64_t bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (u + 1 < G_N_ELEMENTS(units) && bytes >= 1024 &&
	       !(bytes % 1024)) {
		bytes /= 1024;
		u++;
	}
	return g_strdup_printf("%" G_GUINT64_FORMAT " %s", bytes, units[u]);
}

/* ---- statistics and progress --------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_stats_of(double *samples, unsigned int n, struct bench_stats *st)
{
	*st = (struct bench_stats){ .n = n };
	if (!n)
		return;
	qsort(samples, n, sizeof(*samples), cmp_double);
	st->min = samples[0];
	st->max = samples[n - 1];
	st->median = n % 2 ? samples[n / 2] :
		     (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

void bench_progress(const struct bench *b, const char *what, unsigned int i,
		    unsigned int n)
{
	if (!b->opt.progress)
		return;
	fprintf(stderr, "\r\033[K  %s: run %u/%u", what, i, n);
	fflush(stderr);
}

void bench_progress_done(const struct bench *b)
{
	if (!b->opt.progress)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

bool bench_row_selected(const struct bench *b, const char *row,
			const char *fmt_key)
{
	bool ok = !b->opt.only;

	for (char **g = b->opt.only; g && *g && !ok; g++)
		ok = g_pattern_match_simple(*g, row);
	if (!ok || !fmt_key || !b->opt.formats)
		return ok;
	for (char **f = b->opt.formats; *f; f++)
		if (!strcmp(*f, fmt_key))
			return true;
	return false;
}

/* ---- output: aligned text, or one JSON document -------------------------- */

void bench_section_begin(struct bench *b, const char *name,
			 const char *title)
{
	if (b->json) {
		b->json_section = json_object_new();
		json_object_set_string_member(b->json_section, "name", name);
		json_object_set_string_member(b->json_section, "title", title);
		json_object_set_array_member(b->json_section, "rows",
					     json_array_new());
		json_object_set_object_member(b->json_section, "values",
					      json_object_new());
		json_object_set_array_member(b->json_section, "notes",
					     json_array_new());
		return;
	}
	if (b->opt.callgrind) {
		printf("# %s\n", title);
		return;
	}
	printf("\n== %s ==\n", title);
	printf("%-24s %-46s %-5s %10s %10s %10s %10s %9s %11s %6s  %s\n",
	       "row", "operation", "unit", "ns/unit", "min", "max", "cpu ns",
	       "units/s", "table bytes", "blocks", "note");
}

void bench_section_end(struct bench *b)
{
	JsonArray *sections;

	if (!b->json || !b->json_section)
		return;
	sections = json_object_get_array_member(b->json, "sections");
	json_array_add_object_element(sections, b->json_section);
	b->json_section = NULL;
}

static char *format_rate(double per_s)
{
	if (per_s >= 1e9)
		return g_strdup_printf("%.2fG", per_s / 1e9);
	if (per_s >= 1e6)
		return g_strdup_printf("%.2fM", per_s / 1e6);
	if (per_s >= 1e3)
		return g_strdup_printf("%.2fk", per_s / 1e3);
	return g_strdup_printf("%.2f", per_s);
}

static char *format_ns(double ns)
{
	if (ns >= 1e7)
		return g_strdup_printf("%.2fms", ns / 1e6);
	if (ns >= 1e5)
		return g_strdup_printf("%.1fus", ns / 1e3);
	return g_strdup_printf("%.2f", ns);
}

void bench_report_row(struct bench *b, const struct bench_row *r)
{
	double rate = r->ns.median > 0 ? 1e9 / r->ns.median : 0;

	if (b->json && b->json_section) {
		JsonObject *o = json_object_new();

		json_object_set_string_member(o, "row", r->row);
		json_object_set_string_member(o, "operation", r->what);
		if (r->variant)
			json_object_set_string_member(o, "variant",
						      r->variant);
		json_object_set_string_member(o, "unit", r->unit);
		json_object_set_double_member(o, "ns_median", r->ns.median);
		json_object_set_double_member(o, "ns_min", r->ns.min);
		json_object_set_double_member(o, "ns_max", r->ns.max);
		json_object_set_int_member(o, "runs", r->ns.n);
		if (r->cpu.n) {
			json_object_set_double_member(o, "cpu_ns_median",
						      r->cpu.median);
			json_object_set_double_member(o, "cpu_ns_min",
						      r->cpu.min);
		}
		json_object_set_int_member(o, "units_per_run", r->units);
		json_object_set_double_member(o, "units_per_s", rate);
		if (r->table_bytes >= 0)
			json_object_set_int_member(o, "table_bytes",
						   r->table_bytes);
		if (r->blocks >= 0)
			json_object_set_int_member(o, "table_blocks",
						   r->blocks);
		if (r->note)
			json_object_set_string_member(o, "note", r->note);
		json_array_add_object_element(
			json_object_get_array_member(b->json_section, "rows"),
			o);
		return;
	}
	{
		g_autofree char *med = format_ns(r->ns.median);
		g_autofree char *min = format_ns(r->ns.min);
		g_autofree char *max = format_ns(r->ns.max);
		g_autofree char *cpu = r->cpu.n ? format_ns(r->cpu.median) :
				       g_strdup("-");
		g_autofree char *per_s = format_rate(rate);
		g_autofree char *bytes = r->table_bytes >= 0 ?
			g_strdup_printf("%" G_GINT64_FORMAT, r->table_bytes) :
			g_strdup("-");
		g_autofree char *blocks = r->blocks >= 0 ?
			g_strdup_printf("%" G_GINT64_FORMAT, r->blocks) :
			g_strdup("-");

		printf("%-24s %-46s %-5s %10s %10s %10s %10s %9s %11s %6s  %s\n",
		       r->row, r->variant ? r->variant : r->what, r->unit, med,
		       min, max, cpu, per_s, bytes, blocks,
		       r->note ? r->note : "");
	}
}

void bench_report_value(struct bench *b, const char *key, const char *fmt,
			...)
{
	g_autofree char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (b->json && b->json_section) {
		json_object_set_string_member(
			json_object_get_object_member(b->json_section,
						      "values"), key, v);
		return;
	}
	printf("  %s: %s\n", key, v);
}

void bench_report_number(struct bench *b, const char *key, double value,
			 const char *unit)
{
	if (b->json && b->json_section) {
		JsonObject *o = json_object_new();

		json_object_set_double_member(o, "value", value);
		json_object_set_string_member(o, "unit", unit);
		json_object_set_object_member(
			json_object_get_object_member(b->json_section,
						      "values"), key, o);
		return;
	}
	printf("  %s: %.2f %s\n", key, value, unit);
}

void bench_note(struct bench *b, const char *fmt, ...)
{
	g_autofree char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	v = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (b->json && b->json_section) {
		json_array_add_string_element(
			json_object_get_array_member(b->json_section, "notes"),
			v);
		return;
	}
	printf("  %s%s\n", b->opt.callgrind ? "# " : "", v);
}
