// SPDX-License-Identifier: MIT
/*
 * Plugin metadata read from the file, never by running it: the
 * IOPGT_PLUGIN_INFO_SECTION strings ("key=value\0"...) that the descriptor
 * macros put in the .so, and the IOPGT_FORMAT_INFO_SECTION records of the
 * formats' defaults, found through the ELF section headers the way
 * modinfo finds .modinfo.
 *
 * The file is untrusted input: every offset and size is checked against
 * the file size before it is read, sizes are bounded, and only the
 * machine's own ELF class and byte order are accepted (a plugin for
 * another machine could not be loaded anyway).
 */
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

#define INFO_MAX	(64 * 1024)	/* far more than any plugin says */
#define SHNUM_MAX	4096
/* Format records (160 bytes each): a plugin has a handful of formats, so
 * more than this is a corrupt or hostile file, not a plugin; it also
 * bounds what is read (40 KiB) and the strings kept. */
#define FMT_RECORDS_MAX	256

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_DATA	ELFDATA2LSB
#else
#define NATIVE_DATA	ELFDATA2MSB
#endif
#if __SIZEOF_POINTER__ == 8
#define NATIVE_CLASS	ELFCLASS64
#else
#define NATIVE_CLASS	ELFCLASS32
#endif

static bool read_at(int fd, void *buf, size_t len, uint64_t off,
		    uint64_t file_size)
{
	if (off > file_size || len > file_size - off)
		return false;
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

void iopgt_plugin_info_free(struct iopgt_plugin_info *info)
{
	if (!info)
		return;
	g_free(info->name);
	g_free(info->version);
	g_free(info->description);
	g_free(info->license);
	g_free(info->abi);
	g_strfreev(info->provides);
	g_strfreev(info->softdeps);
	g_strfreev(info->format_defaults);
	g_free(info->format_defaults_error);
	g_free(info);
}

struct iopgt_plugin_info *iopgt_plugin_info_copy(
	const struct iopgt_plugin_info *i)
{
	struct iopgt_plugin_info *c = g_new0(struct iopgt_plugin_info, 1);

	c->name = g_strdup(i->name);
	c->version = g_strdup(i->version);
	c->description = g_strdup(i->description);
	c->license = g_strdup(i->license);
	c->abi = g_strdup(i->abi);
	c->provides = g_strdupv(i->provides);
	c->softdeps = g_strdupv(i->softdeps);
	c->format_defaults = g_strdupv(i->format_defaults);
	c->format_defaults_error = g_strdup(i->format_defaults_error);
	return c;
}

static void info_set(struct iopgt_plugin_info *info, GPtrArray *provides,
		     GPtrArray *softdeps, const char *kv)
{
	const char *eq = strchr(kv, '=');
	g_autofree char *key = NULL;
	const char *value;

	if (!eq)
		return;
	key = g_strndup(kv, (gsize)(eq - kv));
	value = eq + 1;
	/* the text reaches terminals and JSON: printable only */
	for (const char *c = value; *c; c++)
		if (!g_ascii_isprint(*c))
			return;
	if (!strcmp(key, "name"))
		g_free(info->name), info->name = g_strdup(value);
	else if (!strcmp(key, "version"))
		g_free(info->version), info->version = g_strdup(value);
	else if (!strcmp(key, "description"))
		g_free(info->description), info->description = g_strdup(value);
	else if (!strcmp(key, "license"))
		g_free(info->license), info->license = g_strdup(value);
	else if (!strcmp(key, "abi"))
		g_free(info->abi), info->abi = g_strdup(value);
	else if (!strcmp(key, "provides"))
		g_ptr_array_add(provides, g_strdup(value));
	else if (!strcmp(key, "softdep"))
		g_ptr_array_add(softdeps, g_strdup(value));
	/* unknown keys: a newer macro set; ignored */
}

static gint str_ptr_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static char **sorted_strv(GPtrArray *a)
{
	/* the section's order is the linker's: sort for stable output */
	g_ptr_array_sort(a, str_ptr_cmp);
	g_ptr_array_add(a, NULL);
	return (char **)g_ptr_array_free(a, FALSE);
}

static struct iopgt_plugin_info *info_from_section(const char *data,
						   size_t len)
{
	struct iopgt_plugin_info *info = g_new0(struct iopgt_plugin_info, 1);
	GPtrArray *provides = g_ptr_array_new();
	GPtrArray *softdeps = g_ptr_array_new();
	size_t i = 0;

	while (i < len) {
		const char *s = data + i;
		size_t n = strnlen(s, len - i);

		if (n && n < len - i)	/* only NUL-terminated strings */
			info_set(info, provides, softdeps, s);
		i += n + 1;
	}
	info->provides = sorted_strv(provides);
	info->softdeps = sorted_strv(softdeps);
	return info;
}

/* ---- format defaults (IOPGT_FORMAT_INFO_SECTION) --------------------------- */

/* Why record r cannot be believed, or NULL. */
static char *format_record_problem(const struct iopgt_format_info *r)
{
	if (r->magic != IOPGT_FORMAT_INFO_MAGIC)
		return g_strdup_printf("magic 0x%08x, expected 0x%08x",
				       r->magic, IOPGT_FORMAT_INFO_MAGIC);
	if (r->struct_size != sizeof(*r))
		return g_strdup_printf("struct_size %u, expected %zu",
				       r->struct_size, sizeof(*r));
	if (!memchr(r->name, '\0', sizeof(r->name)) ||
	    !memchr(r->alias, '\0', sizeof(r->alias)))
		return g_strdup("name or alias not NUL-terminated");
	if (!iopgt_format_name_is_valid(r->name))
		return g_strdup("name is not a format name");
	if (*r->alias && !iopgt_format_name_is_valid(r->alias))
		return g_strdup("alias is not a format name");
	/* a cfg takes these as bit counts of an address */
	if (r->default_ias > 64 || r->default_oas > 64)
		return g_strdup_printf("ias %u or oas %u over 64",
				       r->default_ias, r->default_oas);
	/* a flag this host does not know: a newer plugin, refused whole
	 * as its ABI minor would be */
	if (r->flags & ~IOPGT_FORMAT_INFO_FOREIGN)
		return g_strdup_printf("unknown flags 0x%02x", r->flags);
	return NULL;
}

/*
 * "NAME IAS OAS 0xBITMAP", and " foreign" when the record says the format
 * walks foreign tables, for key, unless key was seen: then false.
 */
static bool format_add(GPtrArray *out, GHashTable *seen, const char *key,
		       const struct iopgt_format_info *r)
{
	if (!g_hash_table_add(seen, (gpointer)key))
		return false;
	g_ptr_array_add(out, g_strdup_printf("%s %u %u 0x%" PRIx64 "%s", key,
					     r->default_ias, r->default_oas,
					     r->default_pgsize_bitmap,
					     r->flags & IOPGT_FORMAT_INFO_FOREIGN ?
					     " " FORMAT_FOREIGN_WORD : ""));
	return true;
}

/* The records in data (n of them), or NULL with *why set: one bad record
 * voids the section, as a half-believed table would mislead. */
static char **formats_from_section(const char *data, size_t n, char **why)
{
	struct iopgt_format_info *r = g_new(struct iopgt_format_info, n ? n : 1);
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
	char **strv = NULL;
	size_t i;

	/* copied out: the section data need not be aligned for the struct */
	memcpy(r, data, n * sizeof(*r));
	for (i = 0; i < n && !*why; i++) {
		g_autofree char *problem = format_record_problem(&r[i]);

		if (problem)
			*why = g_strdup_printf("record %zu: %s", i, problem);
		else if (!format_add(out, seen, r[i].name, &r[i]) ||
			 (*r[i].alias && strcmp(r[i].alias, r[i].name) &&
			  !format_add(out, seen, r[i].alias, &r[i])))
			*why = g_strdup_printf("record %zu: a name or alias "
					       "given twice", i);
	}
	if (!*why) {
		g_ptr_array_set_free_func(out, NULL);
		strv = sorted_strv(out);
		out = NULL;
	}
	if (out)
		g_ptr_array_unref(out);
	g_free(r);
	return strv;
}

/* ---- the ELF file ----------------------------------------------------------- */

struct elf_file {
	int fd;
	uint64_t size;
	ElfW(Shdr) *sh;
	unsigned int shnum;
	char *names;			/* NUL-terminated section name table */
	size_t names_len;
};

static void elf_file_clear(struct elf_file *e)
{
	g_free(e->sh);
	g_free(e->names);
}

static const ElfW(Shdr) *elf_find_section(const struct elf_file *e,
					  const char *name)
{
	for (unsigned int i = 0; i < e->shnum; i++)
		if (e->sh[i].sh_name < e->names_len &&
		    !strcmp(e->names + e->sh[i].sh_name, name))
			return &e->sh[i];
	return NULL;
}

/* The section's bytes (NUL-terminated past sh_size), or NULL. */
static char *elf_read_section(const struct elf_file *e, const ElfW(Shdr) *sh)
{
	char *data = g_malloc(sh->sh_size + 1);

	if (!read_at(e->fd, data, sh->sh_size, sh->sh_offset, e->size)) {
		g_free(data);
		return NULL;
	}
	data[sh->sh_size] = '\0';
	return data;
}

/* Headers and section names.  Returns: 0 or -ENOEXEC with *why set. */
static int elf_open(struct elf_file *e, int fd, char **why)
{
	ElfW(Ehdr) eh;
	const ElfW(Shdr) *strtab;
	struct stat st;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*why = g_strdup("not a regular file");
		return -ENOEXEC;
	}
	e->fd = fd;
	e->size = (uint64_t)st.st_size;
	if (!read_at(fd, &eh, sizeof(eh), 0, e->size) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG)) {
		*why = g_strdup("not an ELF file");
		return -ENOEXEC;
	}
	if (eh.e_ident[EI_CLASS] != NATIVE_CLASS ||
	    eh.e_ident[EI_DATA] != NATIVE_DATA) {
		*why = g_strdup("ELF class or byte order of another machine");
		return -ENOEXEC;
	}
	if (eh.e_shentsize != sizeof(ElfW(Shdr)) || !eh.e_shnum ||
	    eh.e_shnum > SHNUM_MAX || eh.e_shstrndx >= eh.e_shnum) {
		*why = g_strdup("bad ELF section header table");
		return -ENOEXEC;
	}
	e->shnum = eh.e_shnum;
	e->sh = g_new(ElfW(Shdr), e->shnum);
	if (!read_at(fd, e->sh, sizeof(*e->sh) * e->shnum, eh.e_shoff,
		     e->size)) {
		*why = g_strdup("ELF section headers beyond the end of the "
				"file");
		return -ENOEXEC;
	}
	strtab = &e->sh[eh.e_shstrndx];
	if (strtab->sh_size > INFO_MAX * 4 || !strtab->sh_size) {
		*why = g_strdup("bad ELF section name table");
		return -ENOEXEC;
	}
	e->names_len = strtab->sh_size;
	e->names = elf_read_section(e, strtab);
	if (!e->names) {
		*why = g_strdup("ELF section names beyond the end of the file");
		return -ENOEXEC;
	}
	return 0;
}

#define FMT_BAD	"bad " IOPGT_FORMAT_INFO_SECTION " section"

/* The format defaults into info; a bad section leaves none and says why
 * (the rest of the metadata stands: it was read on its own). */
static void read_format_defaults(const struct elf_file *e,
				 struct iopgt_plugin_info *info)
{
	const ElfW(Shdr) *sh = elf_find_section(e, IOPGT_FORMAT_INFO_SECTION);
	const size_t rec = sizeof(struct iopgt_format_info);
	g_autofree char *data = NULL;
	g_autofree char *why = NULL;

	if (!sh) {			/* built with IOPGT_FORMAT_DEFINE */
		info->format_defaults = g_new0(char *, 1);
		return;
	}
	if (sh->sh_type != SHT_PROGBITS)
		why = g_strdup("not PROGBITS");
	else if (sh->sh_size % rec)
		why = g_strdup_printf("size %" PRIu64 " is not a multiple of "
				      "%zu", (uint64_t)sh->sh_size, rec);
	else if (sh->sh_size / rec > FMT_RECORDS_MAX)
		why = g_strdup_printf("%" PRIu64 " records, more than %d",
				      (uint64_t)(sh->sh_size / rec),
				      FMT_RECORDS_MAX);
	else if (!(data = elf_read_section(e, sh)))
		why = g_strdup("beyond the end of the file");
	else
		info->format_defaults = formats_from_section(
			data, sh->sh_size / rec, &why);
	if (why) {
		info->format_defaults = g_new0(char *, 1);
		info->format_defaults_error = g_strdup_printf(FMT_BAD ": %s",
							      why);
	}
}

int iopgt_plugin_info_read_fd(int fd, struct iopgt_plugin_info **out,
			      char **why)
{
	struct elf_file e = { 0 };
	g_autofree char *data = NULL;
	const ElfW(Shdr) *sh;
	int ret = elf_open(&e, fd, why);

	if (ret)
		goto out;
	sh = elf_find_section(&e, IOPGT_PLUGIN_INFO_SECTION);
	ret = -ENOEXEC;
	if (!sh) {
		*why = g_strdup("no " IOPGT_PLUGIN_INFO_SECTION " section "
				"(built without IOPGT_PLUGIN_DEFINE's "
				"metadata)");
		ret = -ENODATA;
	} else if (sh->sh_type != SHT_PROGBITS || sh->sh_size > INFO_MAX) {
		*why = g_strdup("bad " IOPGT_PLUGIN_INFO_SECTION " section");
	} else if (!(data = elf_read_section(&e, sh))) {
		*why = g_strdup(IOPGT_PLUGIN_INFO_SECTION " section beyond the "
				"end of the file");
	} else {
		*out = info_from_section(data, sh->sh_size);
		read_format_defaults(&e, *out);
		ret = 0;
	}
out:
	elf_file_clear(&e);
	return ret;
}

/*
 * The "IAS OAS 0xBITMAP [foreign]" after the name in a format_defaults
 * string (which a cache file may have carried: checked again); *foreign
 * may be NULL.
 */
static bool parse_defaults(const char *s, struct iopgt_cfg *d, bool *foreign)
{
	g_auto(GStrv) f = g_strsplit(s, " ", 0);
	guint n = g_strv_length(f);
	guint64 ias, oas, pgsizes;

	if (n == 4 && strcmp(f[3], FORMAT_FOREIGN_WORD))
		return false;
	if ((n != 3 && n != 4) || !g_str_has_prefix(f[2], "0x") ||
	    !g_ascii_string_to_unsigned(f[0], 10, 0, 64, &ias, NULL) ||
	    !g_ascii_string_to_unsigned(f[1], 10, 0, 64, &oas, NULL) ||
	    !g_ascii_string_to_unsigned(f[2] + 2, 16, 0, G_MAXULONG,
					&pgsizes, NULL))
		return false;
	d->ias = (unsigned int)ias;
	d->oas = (unsigned int)oas;
	d->pgsize_bitmap = pgsizes;
	if (foreign)
		*foreign = n == 4;
	return true;
}

/* format's string in info->format_defaults, past "NAME ", or NULL. */
static const char *format_record(const struct iopgt_plugin_info *info,
				 const char *format)
{
	size_t len = strlen(format);

	for (char **s = info->format_defaults; s && *s; s++)
		if (!strncmp(*s, format, len) && (*s)[len] == ' ')
			return *s + len + 1;
	return NULL;
}

int iopgt_plugin_info_fill_defaults(const struct iopgt_plugin_info *info,
				    const char *format, struct iopgt_cfg *cfg)
{
	const char *rec = format_record(info, format);
	struct iopgt_cfg d = { 0 };

	if (!rec || !parse_defaults(rec, &d, NULL))
		return -ENOENT;
	if (!cfg->ias)
		cfg->ias = d.ias;
	if (!cfg->oas)
		cfg->oas = d.oas;
	if (!cfg->pgsize_bitmap)
		cfg->pgsize_bitmap = d.pgsize_bitmap;
	return 0;
}

int iopgt_plugin_info_has_foreign(const struct iopgt_plugin_info *info,
				  const char *format)
{
	const char *rec = format_record(info, format);

	/* No parse: a load asks this for every format it registers, and the
	 * numbers are parse_defaults()'s business when they are used. */
	if (!rec)
		return -ENOENT;
	return g_str_has_suffix(rec, " " FORMAT_FOREIGN_WORD);
}

int iopgt_plugin_info_read(const char *path, struct iopgt_plugin_info **out,
			   char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int ret;

	if (fd < 0) {
		ret = -errno;
		*why = g_strdup_printf("cannot open: %s", g_strerror(-ret));
		return ret;
	}
	ret = iopgt_plugin_info_read_fd(fd, out, why);
	close(fd);
	return ret;
}
