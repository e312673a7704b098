// SPDX-License-Identifier: MIT
/*
 * Plugin metadata read from the file, never by running it: the
 * IOPGT_PLUGIN_INFO_SECTION strings ("key=value\0"...) that the descriptor
 * macros put in the .so, found through the ELF section headers the way
 * modinfo finds .modinfo.
 *
 * The file is untrusted input: every offset and size is checked against
 * the file size before it is read, sizes are bounded, and only the
 * machine's own ELF class and byte order are accepted (a plugin for
 * another machine could not be loaded anyway).
 */
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iopgt-internal.h"

#define INFO_MAX	(64 * 1024)	/* far more than any plugin says */
#define SHNUM_MAX	4096

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

int iopgt_plugin_info_read_fd(int fd, struct iopgt_plugin_info **out,
			      char **why)
{
	ElfW(Ehdr) eh;
	g_autofree ElfW(Shdr) *sh = NULL;
	g_autofree char *names = NULL;
	g_autofree char *data = NULL;
	const ElfW(Shdr) *strtab;
	struct stat st;
	uint64_t size;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*why = g_strdup("not a regular file");
		return -ENOEXEC;
	}
	size = (uint64_t)st.st_size;
	if (!read_at(fd, &eh, sizeof(eh), 0, size) ||
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
	sh = g_new(ElfW(Shdr), eh.e_shnum);
	if (!read_at(fd, sh, sizeof(*sh) * eh.e_shnum, eh.e_shoff, size)) {
		*why = g_strdup("ELF section headers beyond the end of the "
				"file");
		return -ENOEXEC;
	}
	strtab = &sh[eh.e_shstrndx];
	if (strtab->sh_size > INFO_MAX * 4 || !strtab->sh_size) {
		*why = g_strdup("bad ELF section name table");
		return -ENOEXEC;
	}
	names = g_malloc(strtab->sh_size + 1);
	if (!read_at(fd, names, strtab->sh_size, strtab->sh_offset, size)) {
		*why = g_strdup("ELF section names beyond the end of the file");
		return -ENOEXEC;
	}
	names[strtab->sh_size] = '\0';
	for (unsigned int i = 0; i < eh.e_shnum; i++) {
		if (sh[i].sh_name >= strtab->sh_size ||
		    strcmp(names + sh[i].sh_name, IOPGT_PLUGIN_INFO_SECTION))
			continue;
		if (sh[i].sh_type != SHT_PROGBITS ||
		    sh[i].sh_size > INFO_MAX) {
			*why = g_strdup("bad " IOPGT_PLUGIN_INFO_SECTION
					" section");
			return -ENOEXEC;
		}
		data = g_malloc(sh[i].sh_size + 1);
		if (!read_at(fd, data, sh[i].sh_size, sh[i].sh_offset, size)) {
			*why = g_strdup(IOPGT_PLUGIN_INFO_SECTION " section "
					"beyond the end of the file");
			return -ENOEXEC;
		}
		*out = info_from_section(data, sh[i].sh_size);
		return 0;
	}
	*why = g_strdup("no " IOPGT_PLUGIN_INFO_SECTION " section (built "
			"without IOPGT_PLUGIN_DEFINE's metadata)");
	return -ENODATA;
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
