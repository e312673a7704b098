// SPDX-License-Identifier: MIT
/*
 * Parsing the words of the CLI and of scripts.  Every failure names the
 * word and the reason, so a script line's error says exactly what is wrong.
 */
#include <errno.h>
#include <string.h>

#include "cli.h"

G_DEFINE_QUARK(iopgt-cli-error-quark, iopgt_cli_error)

static gboolean syntax_error(GError **error, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static gboolean syntax_error(GError **error, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, IOPGT_CLI_ERROR, IOPGT_CLI_ERROR_SYNTAX,
			    msg);
	g_free(msg);
	return FALSE;
}

/* Decimal or 0x hex, with an optional binary K/M/G/T suffix. */
gboolean cli_parse_u64(const char *s, uint64_t *out, GError **error)
{
	static const char suffixes[] = "KMGT";
	const char *p = s;
	guint64 v = 0, mult = 1;
	unsigned int base = 10;
	const char *suf;
	char *end;

	if (!s || !*s)
		return syntax_error(error, "missing number");
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	/* strtoull would take a second "0x" ("0x0x10") as the prefix */
	if (!g_ascii_isxdigit(*p) || (base == 10 && !g_ascii_isdigit(*p)) ||
	    (base == 16 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')))
		return syntax_error(error, "'%s' is not a number", s);
	errno = 0;
	v = g_ascii_strtoull(p, &end, base);
	if (errno == ERANGE)
		return syntax_error(error, "'%s' does not fit in 64 bits", s);
	if (*end) {
		suf = strchr(suffixes, g_ascii_toupper(*end));
		if (!suf || end[1])
			return syntax_error(error, "'%s' is not a number "
					    "(bad suffix '%s')", s, end);
		mult = 1ULL << (10 * (suf - suffixes + 1));
		if (v > G_MAXUINT64 / mult)
			return syntax_error(error, "'%s' does not fit in 64 "
					    "bits", s);
	}
	*out = v * mult;
	return TRUE;
}

gboolean cli_parse_pgsizes(const char *s, unsigned long *out, GError **error)
{
	g_auto(GStrv) parts = g_strsplit_set(s, ",|", -1);
	unsigned long bitmap = 0;

	for (char **p = parts; *p; p++) {
		/*
		 * Set, though cli_parse_u64() writes it whenever it returns
		 * TRUE: gcc -O3 cannot see that syntax_error() (varargs, not
		 * inlined) always returns FALSE, and -Wmaybe-uninitialized
		 * fires.
		 */
		uint64_t v = 0;

		if (!**p)
			return syntax_error(error, "empty page size");
		if (!cli_parse_u64(*p, &v, error))
			return FALSE;
		if (!v || (v & (v - 1)))
			return syntax_error(error, "page size '%s' is not a "
					    "power of two", *p);
		bitmap |= v;
	}
	if (!bitmap)
		return syntax_error(error, "no page size");
	*out = bitmap;
	return TRUE;
}

gboolean cli_parse_prot(const char *s, int *out, GError **error)
{
	int prot = 0;

	for (const char *c = s; *c; c++) {
		switch (*c) {
		case 'r': prot |= IOMMU_READ; break;
		case 'w': prot |= IOMMU_WRITE; break;
		case 'c': prot |= IOMMU_CACHE; break;
		case 'n': prot |= IOMMU_NOEXEC; break;
		case 'm': prot |= IOMMU_MMIO; break;
		case 'p': prot |= IOMMU_PRIV; break;
		case '-': break;
		default:
			return syntax_error(error, "unknown prot letter '%c' in "
					    "'%s' (r w c n m p)", *c, s);
		}
	}
	*out = prot;
	return TRUE;
}

static const struct {
	const char *name;
	unsigned long bit;
} quirk_names[] = {
	{ "ns", IO_PGTABLE_QUIRK_ARM_NS },
	{ "no-perms", IO_PGTABLE_QUIRK_NO_PERMS },
	{ "mtk-ext", IO_PGTABLE_QUIRK_ARM_MTK_EXT },
	{ "mtk-ttbr-ext", IO_PGTABLE_QUIRK_ARM_MTK_TTBR_EXT },
	{ "ttbr1", IO_PGTABLE_QUIRK_ARM_TTBR1 },
	{ "outer-wbwa", IO_PGTABLE_QUIRK_ARM_OUTER_WBWA },
	{ "hd", IO_PGTABLE_QUIRK_ARM_HD },
	{ "s2fwb", IO_PGTABLE_QUIRK_ARM_S2FWB },
	{ "no-warn", IO_PGTABLE_QUIRK_NO_WARN },
	{ "reclaim-tables", IOPGT_QUIRK_RECLAIM_TABLES },	/* iopgt's */
};

gboolean cli_parse_quirks(const char *s, unsigned long *out, GError **error)
{
	g_auto(GStrv) parts = g_strsplit(s, ",", -1);
	unsigned long q = 0;

	for (char **p = parts; *p; p++) {
		g_autofree char *name = g_ascii_strdown(*p, -1);
		size_t i;

		g_strdelimit(name, "_", '-');
		if (!*name)
			continue;
		for (i = 0; i < G_N_ELEMENTS(quirk_names); i++)
			if (!strcmp(name, quirk_names[i].name))
				break;
		if (i == G_N_ELEMENTS(quirk_names))
			return syntax_error(error, "unknown quirk '%s' (ns, "
					    "no-perms, mtk-ext, mtk-ttbr-ext, "
					    "ttbr1, outer-wbwa, hd, s2fwb, "
					    "no-warn, reclaim-tables)", *p);
		q |= quirk_names[i].bit;
	}
	*out = q;
	return TRUE;
}

char *cli_format_size(uint64_t size)
{
	static const char units[] = "KMGT";

	for (int i = 4; i >= 1; i--) {
		uint64_t u = 1ULL << (10 * i);

		if (size >= u && !(size & (u - 1)))
			return g_strdup_printf("%" G_GUINT64_FORMAT "%c",
					       size / u, units[i - 1]);
	}
	return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", size);
}

char *cli_format_pgsizes(unsigned long bitmap)
{
	GString *s = g_string_new(NULL);

	for (unsigned int b = 0; b < 64; b++) {
		if (!(bitmap & (1UL << b)))
			continue;
		g_autofree char *one = cli_format_size(1ULL << b);

		if (s->len)
			g_string_append_c(s, '|');
		g_string_append(s, one);
	}
	return g_string_free(s, FALSE);
}

/*
 * Edits (insert, delete, replace, swap two neighbours) from a to b: the
 * optimal string alignment distance, so "mpa" is one edit from "map".
 */
unsigned int cli_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1;
	g_autofree unsigned int *d = g_new(unsigned int, (la + 1) * w);

	for (size_t i = 0; i <= la; i++)
		d[i * w] = (unsigned int)i;
	for (size_t j = 0; j <= lb; j++)
		d[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned int best = d[(i - 1) * w + j - 1] +
					    (a[i - 1] != b[j - 1]);

			best = MIN(best, d[(i - 1) * w + j] + 1);
			best = MIN(best, d[i * w + j - 1] + 1);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1])
				best = MIN(best, d[(i - 2) * w + j - 2] + 1);
			d[i * w + j] = best;
		}
	}
	return d[la * w + lb];
}

unsigned int cli_close_enough(const char *word)
{
	return strlen(word) <= 4 ? 1 : 2;
}

const char *cli_closest(const char *word, const void *table, size_t n,
			const char *(*name_at)(const void *table, size_t i))
{
	unsigned int best_d = cli_close_enough(word) + 1;
	const char *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const char *name = name_at(table, i);
		unsigned int d = cli_edit_distance(word, name);

		if (d < best_d) {
			best_d = d;
			best = name;
		}
	}
	return best;
}
