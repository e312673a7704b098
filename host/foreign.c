// SPDX-License-Identifier: MIT
/*
 * Foreign tables: memory sources and the inspector (docs/inspect.md).
 *
 * The sources are files the caller names: ELF core files, whose PT_LOADs
 * say where each run of bytes lies in PA, and raw memory files at a PA
 * the caller gives; or a read callback over a range of PA (the caller's
 * memory, the host's own simulated memory, or a stage 2 translating an
 * IPA space: foreign-nested.c).  Nothing in the files is trusted.
 * Headers are read with pread into buffers of checked sizes (never an mmap
 * of a size a file states), each PT_LOAD keeps only the bytes the file
 * really has, and a read of memory no source holds is -EFAULT, which the
 * format reports as a walk abort or a problem.  The walking itself is the
 * format's foreign op; this file gives it read() and reg() and holds a use
 * of its plugin.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "foreign.h"
#include "iopgt-internal.h"

#define CORE_NOTE_NAME		"IOPGT"
#define CORE_NOTE_TYPE		0x494f5031U
#if __BYTE_ORDER == __LITTLE_ENDIAN
#define CORE_DATA		ELFDATA2LSB
#else
#define CORE_DATA		ELFDATA2MSB
#endif
/* As image-read.c: a core has one header per run, a note of some lines.
 * A vmcore's notes (one per CPU) are larger: only IOPGT's is read whole. */
#define CORE_MAX_PHNUM		(1U << 16)
#define CORE_MAX_NOTE		(64U << 10)

/*
 * One run of memory, [pa, last]: file fd's bytes from offset, or when
 * read is set, what read(ctx, ...) gives (destroy(ctx) at free).  last,
 * not a size, so that a source can run to 2^64.
 */
struct mem_src {
	uint64_t pa;
	uint64_t last;
	uint64_t offset;
	int fd;
	iopgt_inspect_read_fn read;
	void *ctx;
	GDestroyNotify destroy;
};

struct iopgt_inspect {
	struct iopgt_host *host;
	GArray *srcs;			/* struct mem_src, sorted by pa */
	GArray *fds;			/* int, closed at free */
	GHashTable *regs;		/* name -> uint64_t * */
	char *note_format;
	struct iopgt_table_priv *t;	/* once open */
	void *state;
	struct iopgt_foreign_src fsrc;
};

const char *iopgt_fault_name(enum iopgt_fault fault)
{
	static const char *const names[] = {
		[IOPGT_FAULT_NONE] = "none",
		[IOPGT_FAULT_TRANSLATION] = "translation",
		[IOPGT_FAULT_ADDRESS_SIZE] = "address-size",
		[IOPGT_FAULT_ACCESS_FLAG] = "access-flag",
		[IOPGT_FAULT_PERMISSION] = "permission",
		[IOPGT_FAULT_WALK_ABORT] = "walk-abort",
	};

	return (unsigned int)fault < G_N_ELEMENTS(names) ? names[fault] :
							    "unknown";
}

const char *iopgt_problem_name(enum iopgt_problem problem)
{
	static const char *const names[] = {
		[IOPGT_PROBLEM_READ] = "read",
		[IOPGT_PROBLEM_SHARED] = "shared",
		[IOPGT_PROBLEM_LOOP] = "loop",
		[IOPGT_PROBLEM_OVERLAP] = "overlap",
		[IOPGT_PROBLEM_RES0] = "res0",
		[IOPGT_PROBLEM_MISALIGNED] = "misaligned",
		[IOPGT_PROBLEM_BEYOND_OAS] = "beyond-oas",
		[IOPGT_PROBLEM_REPLICA] = "replica",
		[IOPGT_PROBLEM_LIMIT] = "limit",
	};

	return (unsigned int)problem < G_N_ELEMENTS(names) &&
	       names[problem] ? names[problem] : "unknown";
}

/* ---- sources ------------------------------------------------------------- */

int iopgt_inspect_new(struct iopgt_host *host, struct iopgt_inspect **out)
{
	struct iopgt_inspect *insp;

	g_return_val_if_fail(host && out, -EINVAL);
	insp = g_new0(struct iopgt_inspect, 1);
	insp->host = iopgt_host_ref(host);
	insp->srcs = g_array_new(FALSE, FALSE, sizeof(struct mem_src));
	insp->fds = g_array_new(FALSE, FALSE, sizeof(int));
	insp->regs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   g_free);
	*out = insp;
	return 0;
}

/* The index of the first source ending above pa (srcs->len if none). */
static unsigned int src_find(const struct iopgt_inspect *insp, uint64_t pa)
{
	unsigned int lo = 0, hi = insp->srcs->len;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct mem_src *s =
			&g_array_index(insp->srcs, struct mem_src, mid);

		if (s->last < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Insert in PA order; memory two sources claim is refused. */
static int src_add(struct iopgt_inspect *insp, const char *path,
		   const struct mem_src *s)
{
	unsigned int i = src_find(insp, s->pa);

	if (i < insp->srcs->len) {
		const struct mem_src *n =
			&g_array_index(insp->srcs, struct mem_src, i);

		if (n->pa <= s->last) {
			ERR(insp->host, "%s: PA 0x%" G_GINT64_MODIFIER "x-0x%"
			    G_GINT64_MODIFIER "x overlaps memory already added",
			    path, s->pa, s->last);
			return -EEXIST;
		}
	}
	g_array_insert_val(insp->srcs, i, *s);
	return 0;
}

static int pread_all(int fd, void *buf, size_t size, uint64_t off)
{
	uint8_t *p = buf;

	while (size) {
		ssize_t n = pread(fd, p, size, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EFAULT;	/* the file shrank under us */
		p += n;
		size -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int iopgt_inspect_read(struct iopgt_inspect *insp, uint64_t pa, size_t size,
		       void *buf)
{
	uint8_t *p = buf;

	g_return_val_if_fail(insp && (buf || !size), -EINVAL);
	while (size) {
		unsigned int i = src_find(insp, pa);
		const struct mem_src *s;
		uint64_t in;
		size_t n;
		int ret;

		if (i == insp->srcs->len)
			return -EFAULT;
		s = &g_array_index(insp->srcs, struct mem_src, i);
		if (s->pa > pa)
			return -EFAULT;
		in = pa - s->pa;
		/* the bytes left in s, less one: 2^64 does not fit */
		n = (uint64_t)size - 1 <= s->last - pa ?
			    size : (size_t)(s->last - pa + 1);
		if (s->read)
			ret = s->read(s->ctx, pa, n, p);
		else
			ret = pread_all(s->fd, p, n, s->offset + in);
		if (ret)
			return ret;
		p += n;
		size -= n;
		pa += n;
		if (size && !pa)
			return -EFAULT;	/* wrapped past 2^64 */
	}
	return 0;
}

/* Open path read-only, kept until free.  Returns: fd or a negative errno. */
static int src_open(struct iopgt_inspect *insp, const char *path,
		    uint64_t *size)
{
	struct stat st;
	int fd;

	if (insp->t) {
		ERR(insp->host, "%s: the inspector is already open", path);
		return -EBUSY;
	}
	/* O_NONBLOCK: a FIFO must be refused below, not wait for a writer */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int ret = -errno;

		ERR(insp->host, "%s: %s", path, g_strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ERR(insp->host, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	*size = (uint64_t)st.st_size;
	g_array_append_val(insp->fds, fd);
	return fd;
}

int iopgt_inspect_add_raw(struct iopgt_inspect *insp, const char *path,
			  uint64_t pa)
{
	struct mem_src s = { .pa = pa };
	uint64_t size = 0;	/* set when src_open() succeeds */
	int fd;

	g_return_val_if_fail(insp && path, -EINVAL);
	fd = src_open(insp, path, &size);
	if (fd < 0)
		return fd;
	s.fd = fd;
	s.last = pa + (size - 1);
	if (!size || s.last < pa) {
		ERR(insp->host, "%s: empty, or runs past 2^64 from PA 0x%"
		    G_GINT64_MODIFIER "x", path, pa);
		return -EINVAL;
	}
	return src_add(insp, path, &s);
}

int iopgt_inspect_add_source_full(struct iopgt_inspect *insp, const char *what,
				  uint64_t pa, uint64_t size,
				  iopgt_inspect_read_fn read, void *ctx,
				  GDestroyNotify destroy)
{
	struct mem_src s = { .pa = pa, .last = pa + (size - 1), .fd = -1,
			     .read = read, .ctx = ctx, .destroy = destroy };

	if (insp->t) {
		ERR(insp->host, "%s: the inspector is already open", what);
		return -EBUSY;
	}
	if (!size)
		s.last = UINT64_MAX;
	else if (s.last < pa) {
		ERR(insp->host, "%s: runs past 2^64 from PA 0x%"
		    G_GINT64_MODIFIER "x", what, pa);
		return -EINVAL;
	}
	return src_add(insp, what, &s);
}

int iopgt_inspect_add_source(struct iopgt_inspect *insp, uint64_t pa,
			     uint64_t size, iopgt_inspect_read_fn read,
			     void *ctx)
{
	g_return_val_if_fail(insp && read, -EINVAL);
	return iopgt_inspect_add_source_full(insp, "caller's source", pa, size,
					     read, ctx, NULL);
}

/* ---- the host's simulated memory ----------------------------------------- */

/*
 * The whole mapping is reserved up front and backed lazily, so any PA in
 * [first, last] is a valid address to copy from: a page never handed out
 * reads as zeros, a freed one as what it last held.
 */
static int host_mem_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	const struct iopgt_physmem *pm = ctx;

	memcpy(buf, (const void *)(uintptr_t)
		       (pa + iopgt_physmem_pa_to_va_offset(pm)), size);
	return 0;
}

int iopgt_inspect_add_host_memory(struct iopgt_inspect *insp)
{
	struct iopgt_physmem *pm;
	uint64_t size;
	int ret;

	g_return_val_if_fail(insp, -EINVAL);
	iopgt_host_lock(insp->host);
	ret = iopgt_host_get_physmem(insp->host, &pm);
	iopgt_host_unlock(insp->host);
	if (ret < 0)
		return ret;
	size = iopgt_physmem_size(pm);
	return iopgt_inspect_add_source_full(insp, "host memory",
					     iopgt_physmem_last_pa(pm) -
						     (size - 1),
					     size, host_mem_read, pm, NULL);
}

/* ---- ELF core files ------------------------------------------------------ */

struct core {
	struct iopgt_inspect *insp;
	const char *path;
	int fd;
	uint64_t size;
	bool elf32;		/* ELFCLASS32: a 32-bit guest's dump */
	uint64_t phoff;
	uint64_t phnum;
};

static int core_refuse(const struct core *c, const char *what)
{
	ERR(c->insp->host, "%s: %s", c->path, what);
	return -EINVAL;
}

static bool core_has(const struct core *c, uint64_t off, uint64_t len)
{
	return off <= c->size && len <= c->size - off;
}

/*
 * The fields of either class's ELF header that a core is read by.  QEMU
 * writes ELFCLASS32 dumps of 32-bit guests (where v7s tables live) and
 * ELFCLASS64 otherwise; kdump likewise.
 */
struct core_ehdr {
	uint16_t type;
	uint16_t phentsize;
	uint16_t phnum;
	uint64_t phoff;
	uint64_t shoff;
};

static int core_ehdr_read(struct core *c, struct core_ehdr *e)
{
	Elf64_Ehdr e64;
	Elf32_Ehdr e32;

	if (!c->elf32) {
		if (!core_has(c, 0, sizeof(e64)) ||
		    pread_all(c->fd, &e64, sizeof(e64), 0))
			return core_refuse(c, "not an ELF file");
		*e = (struct core_ehdr){ e64.e_type, e64.e_phentsize,
					 e64.e_phnum, e64.e_phoff,
					 e64.e_shoff };
		return 0;
	}
	if (!core_has(c, 0, sizeof(e32)) ||
	    pread_all(c->fd, &e32, sizeof(e32), 0))
		return core_refuse(c, "not an ELF file");
	*e = (struct core_ehdr){ e32.e_type, e32.e_phentsize, e32.e_phnum,
				 e32.e_phoff, e32.e_shoff };
	return 0;
}

/* PN_XNUM: the count is in section header 0's sh_info. */
static int core_xnum(struct core *c, uint64_t shoff)
{
	Elf64_Shdr sh64;
	Elf32_Shdr sh32;
	size_t len = c->elf32 ? sizeof(sh32) : sizeof(sh64);

	if (!core_has(c, shoff, len) ||
	    pread_all(c->fd, c->elf32 ? (void *)&sh32 : (void *)&sh64, len,
		      shoff))
		return core_refuse(c, "PN_XNUM without a section header");
	c->phnum = c->elf32 ? sh32.sh_info : sh64.sh_info;
	return 0;
}

static int core_ehdr(struct core *c)
{
	unsigned char ident[EI_NIDENT];
	struct core_ehdr e = { 0 };	/* set by core_ehdr_read() */
	int ret;

	if (!core_has(c, 0, sizeof(ident)) ||
	    pread_all(c->fd, ident, sizeof(ident), 0) ||
	    memcmp(ident, ELFMAG, SELFMAG))
		return core_refuse(c, "not an ELF file");
	if ((ident[EI_CLASS] != ELFCLASS64 && ident[EI_CLASS] != ELFCLASS32) ||
	    ident[EI_DATA] != CORE_DATA)
		return core_refuse(c, "not a 32- or 64-bit ELF file in the "
				   "host's byte order");
	c->elf32 = ident[EI_CLASS] == ELFCLASS32;
	ret = core_ehdr_read(c, &e);
	if (ret)
		return ret;
	if (e.type != ET_CORE)
		return core_refuse(c, "not an ELF core file (ET_CORE)");
	if (e.phentsize != (c->elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr)))
		return core_refuse(c, c->elf32 ?
				   "program header size is not 32" :
				   "program header size is not 56");
	c->phoff = e.phoff;
	c->phnum = e.phnum;
	if (e.phnum == PN_XNUM) {
		ret = core_xnum(c, e.shoff);
		if (ret)
			return ret;
	}
	if (c->phnum > CORE_MAX_PHNUM)
		return core_refuse(c, "more than 65536 program headers");
	if (!core_has(c, c->phoff, c->phnum * e.phentsize))
		return core_refuse(c, "program headers beyond the end of the "
				   "file");
	return 0;
}

/* The bytes of a PT_LOAD the file holds, at its p_paddr. */
static int core_load(struct core *c, const Elf64_Phdr *ph, uint64_t i)
{
	struct mem_src s = { .pa = ph->p_paddr, .offset = ph->p_offset,
			     .fd = c->fd };
	uint64_t size;

	if (!ph->p_filesz)
		return 0;
	size = ph->p_offset < c->size ?
		       MIN(ph->p_filesz, c->size - ph->p_offset) : 0;
	if (size < ph->p_filesz)
		WARN(c->insp->host, "%s: PT_LOAD %" G_GUINT64_FORMAT " claims %"
		     G_GUINT64_FORMAT " bytes at offset 0x%" G_GINT64_MODIFIER
		     "x, the file holds %" G_GUINT64_FORMAT ": the rest reads "
		     "as missing", c->path, i, ph->p_filesz, ph->p_offset,
		     size);
	if (!size)
		return 0;
	s.last = s.pa + (size - 1);
	if (s.last < s.pa)
		return core_refuse(c, "a PT_LOAD runs past PA 2^64");
	return src_add(c->insp, c->path, &s);
}

/* One "key=value" line of the IOPGT note; bad lines are skipped. */
static void core_note_line(struct core *c, const char *line, size_t len)
{
	struct iopgt_inspect *insp = c->insp;
	const char *eq = memchr(line, '=', len);
	g_autofree char *key = NULL, *val = NULL;
	uint64_t v;

	if (!eq || eq == line)
		return;
	key = g_strndup(line, (gsize)(eq - line));
	val = g_strndup(eq + 1, (gsize)(len - (size_t)(eq + 1 - line)));
	if (!strcmp(key, "format")) {
		if (!insp->note_format && iopgt_format_name_is_valid(val))
			insp->note_format = g_steal_pointer(&val);
		return;
	}
	if (strncmp(val, "0x", 2) || !val[2] || strlen(val) > 18 ||
	    strspn(val + 2, "0123456789abcdef") != strlen(val + 2))
		return;
	v = g_ascii_strtoull(val + 2, NULL, 16);
	if (!g_hash_table_contains(insp->regs, key))
		g_hash_table_insert(insp->regs, g_steal_pointer(&key),
				    g_memdup2(&v, sizeof(v)));
}

static void core_note_text(struct core *c, const char *text, size_t len)
{
	const char *end = text + len;

	while (text < end) {
		const char *nl = memchr(text, '\n', (size_t)(end - text));
		const char *eol = nl ? nl : end;

		core_note_line(c, text, (size_t)(eol - text));
		text = eol + 1;
	}
}

/* Look for the IOPGT note in a PT_NOTE, header by header. */
static int core_notes(struct core *c, const Elf64_Phdr *ph)
{
	uint64_t off = ph->p_offset, end;

	if (!core_has(c, ph->p_offset, ph->p_filesz))
		return core_refuse(c,
				   "a PT_NOTE runs past the end of the file");
	end = ph->p_offset + ph->p_filesz;
	/* Elf32_Nhdr has the same three 32-bit words */
	while (end - off >= sizeof(Elf64_Nhdr)) {
		Elf64_Nhdr nh;
		char name[sizeof(CORE_NOTE_NAME)];
		uint64_t desc, next;
		int ret = pread_all(c->fd, &nh, sizeof(nh), off);

		if (ret)
			return ret;
		desc = off + sizeof(nh) + (((uint64_t)nh.n_namesz + 3) & ~3ULL);
		next = desc + (((uint64_t)nh.n_descsz + 3) & ~3ULL);
		if (next > end)
			return core_refuse(c, "a note runs past its PT_NOTE");
		if (nh.n_namesz == sizeof(name) &&
		    nh.n_type == CORE_NOTE_TYPE &&
		    nh.n_descsz <= CORE_MAX_NOTE &&
		    !pread_all(c->fd, name, sizeof(name), off + sizeof(nh)) &&
		    !memcmp(name, CORE_NOTE_NAME, sizeof(name))) {
			g_autofree char *text = g_malloc(nh.n_descsz + 1);

			ret = pread_all(c->fd, text, nh.n_descsz, desc);
			if (ret)
				return ret;
			core_note_text(c, text, nh.n_descsz);
		}
		off = next;
	}
	return 0;
}

/* Program header i of either class, as an Elf64_Phdr. */
static void core_phdr(const struct core *c, const void *table, uint64_t i,
		      Elf64_Phdr *ph)
{
	const Elf32_Phdr *p32;

	if (!c->elf32) {
		*ph = ((const Elf64_Phdr *)table)[i];
		return;
	}
	p32 = &((const Elf32_Phdr *)table)[i];
	*ph = (Elf64_Phdr){ .p_type = p32->p_type, .p_flags = p32->p_flags,
			    .p_offset = p32->p_offset,
			    .p_vaddr = p32->p_vaddr, .p_paddr = p32->p_paddr,
			    .p_filesz = p32->p_filesz,
			    .p_memsz = p32->p_memsz, .p_align = p32->p_align };
}

static int core_phdrs(struct core *c)
{
	size_t ent = c->elf32 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	g_autofree void *table = g_malloc(MAX(c->phnum, 1) * ent);
	int ret = pread_all(c->fd, table, c->phnum * ent, c->phoff);

	for (uint64_t i = 0; !ret && i < c->phnum; i++) {
		Elf64_Phdr ph;

		core_phdr(c, table, i, &ph);
		if (ph.p_type == PT_LOAD)
			ret = core_load(c, &ph, i);
		else if (ph.p_type == PT_NOTE)
			ret = core_notes(c, &ph);
	}
	return ret;
}

int iopgt_inspect_add_core(struct iopgt_inspect *insp, const char *path)
{
	struct core c = { .insp = insp, .path = path };
	int ret;

	g_return_val_if_fail(insp && path, -EINVAL);
	c.fd = src_open(insp, path, &c.size);
	if (c.fd < 0)
		return c.fd;
	ret = core_ehdr(&c);
	if (!ret)
		ret = core_phdrs(&c);
	return ret;
}

/* ---- registers ----------------------------------------------------------- */

int iopgt_inspect_set_reg(struct iopgt_inspect *insp, const char *name,
			  uint64_t value)
{
	g_return_val_if_fail(insp && name, -EINVAL);
	if (insp->t)
		return -EBUSY;
	g_hash_table_insert(insp->regs, g_strdup(name),
			    g_memdup2(&value, sizeof(value)));
	return 0;
}

int iopgt_inspect_get_reg(const struct iopgt_inspect *insp, const char *name,
			  uint64_t *value)
{
	const uint64_t *v;

	g_return_val_if_fail(insp && name && value, -EINVAL);
	v = g_hash_table_lookup(insp->regs, name);
	if (!v)
		return -ENOENT;
	*value = *v;
	return 0;
}

bool iopgt_inspect_is_open(const struct iopgt_inspect *insp)
{
	return insp->t;
}

struct iopgt_host *iopgt_inspect_get_host(const struct iopgt_inspect *insp)
{
	return insp->host;
}

void *iopgt_inspect_get_source_ctx(const struct iopgt_inspect *insp,
				   iopgt_inspect_read_fn read)
{
	for (unsigned int i = 0; i < insp->srcs->len; i++) {
		const struct mem_src *s =
			&g_array_index(insp->srcs, struct mem_src, i);

		if (s->read == read)
			return s->ctx;
	}
	return NULL;
}

/* ---- the format's foreign walk ------------------------------------------- */

static int fsrc_read(void *ctx, uint64_t pa, size_t size, void *buf)
{
	return iopgt_inspect_read(ctx, pa, size, buf);
}

static int fsrc_reg(void *ctx, const char *name, uint64_t *value)
{
	return iopgt_inspect_get_reg(ctx, name, value);
}

/* Give back the use of the plugin, as a freed table does. */
static void inspect_detach(struct iopgt_inspect *insp)
{
	struct iopgt_table_priv *t = insp->t;
	struct iopgt_mem_stats s;

	iopgt_mem_get_stats(&t->mem, &s);
	if (s.state_bytes)
		ERR(insp->host, "format '%s': foreign walk left %"
		    G_GINT64_FORMAT " bytes of state allocated", t->fmt->name,
		    (gint64)s.state_bytes);
	iopgt_host_lock(insp->host);
	g_hash_table_remove(t->plugin->holders, t);
	t->plugin->users--;
	iopgt_unload_table_gone(t->plugin);
	iopgt_host_unlock(insp->host);
	g_free(t->label);
	g_free(t);
	insp->t = NULL;
}

int iopgt_inspect_open(struct iopgt_inspect *insp, const char *format)
{
	struct iopgt_table_priv *t;
	int ret;

	g_return_val_if_fail(insp, -EINVAL);
	if (insp->t)
		return -EBUSY;
	if (!format)
		format = insp->note_format;
	if (!format) {
		ERR(insp->host, "inspect: no format given and no image note "
		    "names one");
		return -ENOENT;
	}
	t = g_new0(struct iopgt_table_priv, 1);
	ret = iopgt_ondemand_attach(insp->host, format, t);
	if (ret < 0) {
		g_free(t);
		return ret;
	}
	/* no table memory is taken: the provider's reference can go now */
	iopgt_mem_provider_unref(t->mem.prov);
	insp->t = t;
	/* the slot was reserved (NULL) before 1.4, but say so first */
	if (t->plugin->desc->abi_minor < 4 || !t->fmt->foreign) {
		ERR(insp->host, "inspect: format '%s' cannot walk foreign "
		    "tables (its plugin has no foreign op)", t->fmt->name);
		inspect_detach(insp);
		return -EOPNOTSUPP;
	}
	insp->fsrc = (struct iopgt_foreign_src){ .read = fsrc_read,
						 .reg = fsrc_reg,
						 .ctx = insp };
	ret = t->fmt->foreign->open(&insp->fsrc, &t->env, &insp->state);
	if (ret == 0 && !insp->state)
		ret = -EPROTO;
	if (ret < 0) {
		inspect_detach(insp);
		return ret;
	}
	return 0;
}

const char *iopgt_inspect_get_format(const struct iopgt_inspect *insp)
{
	g_return_val_if_fail(insp, NULL);
	return insp->t ? insp->t->fmt->name : insp->note_format;
}

int iopgt_inspect_translate(struct iopgt_inspect *insp, uint64_t iova,
			    unsigned int access, struct iopgt_xlate *out)
{
	g_return_val_if_fail(insp && out, -EINVAL);
	if (!insp->t)
		return -EINVAL;
	return insp->t->fmt->foreign->translate(insp->state, iova, access,
						out);
}

int iopgt_inspect_walk(struct iopgt_inspect *insp,
		       const struct iopgt_walk_ops *visit, void *data)
{
	g_return_val_if_fail(insp && visit, -EINVAL);
	if (!insp->t)
		return -EINVAL;
	return insp->t->fmt->foreign->walk(insp->state, visit, data);
}

int iopgt_inspect_check(struct iopgt_inspect *insp, iopgt_problem_fn fn,
			void *data)
{
	g_return_val_if_fail(insp, -EINVAL);
	if (!insp->t)
		return -EINVAL;
	return insp->t->fmt->foreign->check(insp->state, fn, data);
}

void iopgt_inspect_free(struct iopgt_inspect *insp)
{
	if (!insp)
		return;
	if (insp->t) {
		insp->t->fmt->foreign->close(insp->state);
		inspect_detach(insp);
	}
	for (unsigned int i = 0; i < insp->srcs->len; i++) {
		const struct mem_src *s =
			&g_array_index(insp->srcs, struct mem_src, i);

		if (s->destroy)
			s->destroy(s->ctx);
	}
	for (unsigned int i = 0; i < insp->fds->len; i++)
		close(g_array_index(insp->fds, int, i));
	g_array_unref(insp->fds);
	g_array_unref(insp->srcs);
	g_hash_table_unref(insp->regs);
	g_free(insp->note_format);
	iopgt_host_unref(insp->host);
	g_free(insp);
}
