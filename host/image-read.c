// SPDX-License-Identifier: MIT
/*
 * Table images, the reading side: iopgt_pgtable_adopt() makes a live table
 * of an image iopgt_pgtable_save() wrote (docs/images.md).
 *
 * The file is read whole into memory, at most IMAGE_MAX_BYTES, and every
 * offset and size it states is checked against what was read before use.
 * The note says the format and cfg; the format's adopt op walks from the
 * root and asks for each table with claim(), which finds its bytes in a
 * PT_LOAD, takes the same PA from the host's memory and copies them
 * there.  claim() keeps the set of tables seen with the PA of the table
 * that pointed at each, so a table reached twice is refused, and called a
 * loop when it is its own ancestor.  When the format is done, every byte
 * of every PT_LOAD must belong to a table and every register the format
 * derived must equal the note's.
 *
 * Until the format has returned a table, the blocks claimed are the
 * host's: a refusal gives every one back, so nothing is left allocated.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

#define IMAGE_NOTE_NAME		"IOPGT"
#define IMAGE_NOTE_TYPE		0x494f5031U
#if __BYTE_ORDER == __LITTLE_ENDIAN
#define IMAGE_DATA		ELFDATA2LSB
#else
#define IMAGE_DATA		ELFDATA2MSB
#endif

/*
 * Caps on what a file may make the reader do.  The bytes: far above any
 * table of the bundled formats (a full 48-bit LPAE table is out of reach
 * anyway), low enough that a hostile file cannot take the machine's
 * memory.  Program headers: save writes one per run, and a run is at
 * least one 1 KiB table.  The note: a few hundred bytes are written.
 */
#define IMAGE_MAX_BYTES		(256ULL << 20)
#define IMAGE_MAX_PHNUM		(1U << 16)
#define IMAGE_MAX_NOTE		(64U << 10)

/* One PT_LOAD. */
struct image_load {
	uint64_t pa;
	uint64_t size;
	uint64_t offset;
};

/* A table claimed: its extent and who pointed at it. */
struct image_table {
	uint64_t pa;
	uint64_t size;
	uint64_t parent;
};

/* A block taken from the host's memory for one or more tables. */
struct image_block {
	void *va;
	size_t size;
};

struct adopt {
	struct iopgt_host *host;
	struct iopgt_table_priv *t;
	const uint8_t *file;
	size_t len;
	GArray *loads;			/* struct image_load, by PA */
	uint64_t load_bytes;
	const char *note;		/* not NUL-terminated */
	size_t note_len;
	GTree *tables;			/* &pa -> struct image_table */
	GHashTable *blocks;		/* block PA -> struct image_block */
	uint64_t claimed_bytes;		/* of tables */
	bool coherent;
	struct iopgt_image_src src;
};

/* ---- reading the file ---------------------------------------------------- */

/* read() until EOF or the cap; a file beyond it is refused. */
static int read_all(struct iopgt_host *host, int fd, GByteArray **out)
{
	GByteArray *buf = g_byte_array_new();
	uint8_t chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int ret = -errno;

			g_byte_array_unref(buf);
			return ret;
		}
		if (n == 0)
			break;
		if (buf->len + (uint64_t)n > IMAGE_MAX_BYTES) {
			ERR(host, "table image: larger than %llu MiB",
			    IMAGE_MAX_BYTES >> 20);
			g_byte_array_unref(buf);
			return -EFBIG;
		}
		g_byte_array_append(buf, chunk, (guint)n);
	}
	*out = buf;
	return 0;
}

static bool in_file(const struct adopt *a, uint64_t off, uint64_t len)
{
	return off <= a->len && len <= a->len - off;
}

/* Say why the image is refused, one line.  Returns: -EINVAL. */
static int refuse(const struct adopt *a, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

static int refuse(const struct adopt *a, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	ERR(a->host, "table image: %s", msg);
	return -EINVAL;
}


static int check_ehdr(struct adopt *a, const Elf64_Ehdr *eh)
{
	if (a->len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return refuse(a, "not an ELF file");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != IMAGE_DATA)
		return refuse(a, "not a 64-bit ELF file in the host's byte "
			      "order");
	if (eh->e_type != ET_CORE)
		return refuse(a, "ELF type %u, not ET_CORE", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return refuse(a, "program header size %u", eh->e_phentsize);
	return 0;
}

/* e_phnum, or with PN_XNUM the count in section header 0 (gABI). */
static int get_phnum(struct adopt *a, const Elf64_Ehdr *eh, uint64_t *phnum)
{
	const Elf64_Shdr *sh;

	*phnum = eh->e_phnum;
	if (eh->e_phnum == PN_XNUM) {
		if (!in_file(a, eh->e_shoff, sizeof(*sh)) || eh->e_shoff % 8)
			return refuse(a, "PN_XNUM without a section header");
		sh = (const Elf64_Shdr *)(a->file + eh->e_shoff);
		*phnum = sh->sh_info;
	}
	if (*phnum > IMAGE_MAX_PHNUM)
		return refuse(a, "%" G_GUINT64_FORMAT " program headers, more "
			      "than %u", *phnum, IMAGE_MAX_PHNUM);
	if (eh->e_phoff % 8 ||
	    !in_file(a, eh->e_phoff, *phnum * sizeof(Elf64_Phdr)))
		return refuse(a, "program headers beyond the end of the file");
	return 0;
}

/* The first IOPGT note of the right type in a PT_NOTE; 0 if none. */
static int find_note(struct adopt *a, const Elf64_Phdr *ph)
{
	uint64_t off = ph->p_offset, end;

	if (!in_file(a, ph->p_offset, ph->p_filesz) || ph->p_offset % 4)
		return refuse(a, "PT_NOTE beyond the end of the file or "
			      "misaligned");
	end = ph->p_offset + ph->p_filesz;
	/* each note starts 4-aligned: the sizes below are rounded up */
	while (end - off >= sizeof(Elf64_Nhdr) && !a->note) {
		const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(a->file + off);
		uint64_t name = off + sizeof(*nh);
		uint64_t desc = name + (((uint64_t)nh->n_namesz + 3) & ~3ULL);
		uint64_t next = desc + (((uint64_t)nh->n_descsz + 3) & ~3ULL);

		if (next > end)
			return refuse(a, "a note runs past its PT_NOTE");
		if (nh->n_namesz == sizeof(IMAGE_NOTE_NAME) &&
		    !memcmp(a->file + name, IMAGE_NOTE_NAME,
			    sizeof(IMAGE_NOTE_NAME))) {
			if (nh->n_type != IMAGE_NOTE_TYPE)
				return refuse(a, "IOPGT note of type 0x%x, "
					      "not 0x%x", nh->n_type,
					      IMAGE_NOTE_TYPE);
			if (nh->n_descsz > IMAGE_MAX_NOTE)
				return refuse(a, "IOPGT note of %u bytes, "
					      "more than %u", nh->n_descsz,
					      IMAGE_MAX_NOTE);
			a->note = (const char *)a->file + desc;
			a->note_len = nh->n_descsz;
		}
		off = next;
	}
	return 0;
}

static int add_load(struct adopt *a, const Elf64_Phdr *ph, unsigned int i)
{
	struct image_load l = { ph->p_paddr, ph->p_filesz, ph->p_offset };

	if (!in_file(a, ph->p_offset, ph->p_filesz))
		return refuse(a, "PT_LOAD %u (%" G_GUINT64_FORMAT " bytes at "
			      "offset 0x%" G_GINT64_MODIFIER "x) runs past the "
			      "end of the file (%zu bytes)", i, ph->p_filesz,
			      ph->p_offset, a->len);
	if (ph->p_memsz != ph->p_filesz || !ph->p_filesz ||
	    ph->p_paddr + (ph->p_filesz - 1) < ph->p_paddr)
		return refuse(a, "PT_LOAD %u: sizes %" G_GUINT64_FORMAT "/%"
			      G_GUINT64_FORMAT " at PA 0x%" G_GINT64_MODIFIER
			      "x", i, ph->p_filesz, ph->p_memsz, ph->p_paddr);
	g_array_append_val(a->loads, l);
	a->load_bytes += l.size;
	return 0;
}

static gint load_cmp(gconstpointer x, gconstpointer y)
{
	const struct image_load *l = x, *m = y;

	return l->pa < m->pa ? -1 : l->pa > m->pa;
}

static int read_headers(struct adopt *a)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)a->file;
	uint64_t phnum;
	int ret;

	ret = check_ehdr(a, eh);
	if (!ret)
		ret = get_phnum(a, eh, &phnum);
	for (uint64_t i = 0; !ret && i < phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)
			(a->file + eh->e_phoff) + i;

		if (ph->p_type == PT_NOTE && !a->note)
			ret = find_note(a, ph);
		else if (ph->p_type == PT_LOAD)
			ret = add_load(a, ph, (unsigned int)i);
	}
	if (ret)
		return ret;
	if (!a->note)
		return refuse(a, "no IOPGT note");
	g_array_sort(a->loads, load_cmp);
	for (unsigned int i = 1; i < a->loads->len; i++) {
		const struct image_load *l =
			&g_array_index(a->loads, struct image_load, i - 1);

		if (l->pa + l->size > l[1].pa)
			return refuse(a, "PT_LOADs overlap at PA 0x%"
				      G_GINT64_MODIFIER "x", l[1].pa);
	}
	return 0;
}

/* ---- the note ------------------------------------------------------------ */

/* The value of key in the note, as a new string; NULL if absent. */
static char *note_get(const struct adopt *a, const char *key)
{
	size_t klen = strlen(key);
	const char *p = a->note, *end = a->note + a->note_len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		if ((size_t)(eol - p) > klen && !memcmp(p, key, klen) &&
		    p[klen] == '=')
			return g_strndup(p + klen + 1, (gsize)(eol - p - klen - 1));
		p = eol + 1;
	}
	return NULL;
}

/* "0x" and lower-case hex digits, the only number the note holds. */
static int note_number(const struct adopt *a, const char *key, uint64_t *v)
{
	g_autofree char *s = note_get(a, key);

	if (!s)
		return refuse(a, "the note has no '%s'", key);
	if (strncmp(s, "0x", 2) || !s[2] || strlen(s) > 18 ||
	    strspn(s + 2, "0123456789abcdef") != strlen(s + 2))
		return refuse(a, "note key '%s': '%s' is not a 0x hex number",
			      key, s);
	*v = g_ascii_strtoull(s + 2, NULL, 16);
	return 0;
}

static int note_cfg(struct adopt *a, struct iopgt_cfg *cfg, uint64_t *root)
{
	uint64_t ias, oas, pgsizes, quirks, coherent;
	int ret;

	ret = note_number(a, "ias", &ias);
	if (!ret)
		ret = note_number(a, "oas", &oas);
	if (!ret)
		ret = note_number(a, "pgsize_bitmap", &pgsizes);
	if (!ret)
		ret = note_number(a, "quirks", &quirks);
	if (!ret)
		ret = note_number(a, "coherent_walk", &coherent);
	if (!ret)
		ret = note_number(a, "root", root);
	if (ret)
		return ret;
	if (ias > 64 || oas > 64 || coherent > 1)
		return refuse(a, "ias %" G_GUINT64_FORMAT ", oas %"
			      G_GUINT64_FORMAT " or coherent_walk %"
			      G_GUINT64_FORMAT " out of range", ias, oas,
			      coherent);
	*cfg = (struct iopgt_cfg){
		.quirks = quirks, .pgsize_bitmap = pgsizes,
		.ias = (unsigned int)ias, .oas = (unsigned int)oas,
		.coherent_walk = coherent,
	};
	return 0;
}

/* ---- claiming tables ----------------------------------------------------- */

static gint pa_cmp(gconstpointer x, gconstpointer y, gpointer unused)
{
	uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;

	(void)unused;
	return p < q ? -1 : p > q;
}

/* The PT_LOAD holding all of [pa, pa + size), or NULL. */
static const struct image_load *load_holding(const struct adopt *a,
					     uint64_t pa, uint64_t size)
{
	unsigned int lo = 0, hi = a->loads->len;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		const struct image_load *l =
			&g_array_index(a->loads, struct image_load, mid);

		if (pa < l->pa)
			hi = mid;
		else if (pa - l->pa >= l->size)
			lo = mid + 1;
		else
			return size <= l->size - (pa - l->pa) ? l : NULL;
	}
	return NULL;
}

/* Is pa the table at from or one of its ancestors? */
static bool is_ancestor(const struct adopt *a, uint64_t pa, uint64_t from)
{
	while (from != IOPGT_IMAGE_NO_PARENT) {
		const struct image_table *t = g_tree_lookup(a->tables, &from);

		if (from == pa)
			return true;
		if (!t)
			return false;
		from = t->parent;
	}
	return false;
}

/* A table already claimed that shares a byte with [pa, pa + size). */
static const struct image_table *overlapping(const struct adopt *a,
					     uint64_t pa, uint64_t size)
{
	GTreeNode *n = g_tree_lower_bound(a->tables, &pa);
	GTreeNode *prev = n ? g_tree_node_previous(n) : g_tree_node_last(a->tables);
	const struct image_table *t;

	if (n) {
		t = g_tree_node_value(n);
		if (t->pa < pa + size)
			return t;
	}
	if (prev) {
		t = g_tree_node_value(prev);
		if (t->pa + t->size > pa)
			return t;
	}
	return NULL;
}

/* The block at bpa from the host's memory, taken once, accounted as
 * alloc_pages would. */
static void *claim_block(struct adopt *a, uint64_t bpa, size_t bsize,
			 int *err)
{
	struct image_block *b = g_hash_table_lookup(a->blocks, &bpa);
	struct iopgt_mem *mem = &a->t->mem;
	uint64_t *key;

	if (b) {
		if (b->size == bsize)
			return b->va;
		*err = refuse(a, "tables of different block sizes share PA 0x%"
			      G_GINT64_MODIFIER "x", bpa);
		return NULL;
	}
	b = g_new(struct image_block, 1);
	b->size = bsize;
	b->va = iopgt_physmem_claim(mem->pm, bpa, bsize, err);
	if (!b->va) {
		ERR(a->host, "table image: PA 0x%" G_GINT64_MODIFIER "x (%zu "
		    "bytes) is %s this host's memory", bpa, bsize,
		    *err == -EBUSY ? "in use in" : *err == -ENOMEM ?
		    "beyond the limit of" : "outside");
		g_free(b);
		return NULL;
	}
	key = g_new(uint64_t, 1);
	*key = bpa;
	g_hash_table_insert(a->blocks, key, b);
	atomic_fetch_add(&mem->table_bytes, (int64_t)bsize);
	atomic_fetch_add(&mem->table_allocs, 1);
	return b->va;
}

static void *image_claim(const struct iopgt_image_src *src, uint64_t pa,
			 size_t size, size_t block, uint64_t parent, int *err)
{
	struct adopt *a = src->priv;
	size_t bsize = iopgt_physmem_block_size(block);
	uint64_t bpa = pa & ~(uint64_t)(bsize - 1);
	const struct image_load *l;
	const struct image_table *old;
	struct image_table *t;
	uint8_t *va;

	*err = -EINVAL;
	if (!size || bsize < size || pa + size > bpa + bsize) {
		*err = refuse(a, "table at PA 0x%" G_GINT64_MODIFIER "x: %zu "
			      "bytes do not fit a %zu-byte block", pa, size,
			      bsize);
		return NULL;
	}
	l = load_holding(a, pa, size);
	if (!l) {
		*err = refuse(a, "table at PA 0x%" G_GINT64_MODIFIER "x: "
			      "pointer outside the image", pa);
		return NULL;
	}
	old = overlapping(a, pa, size);
	if (old && old->pa == pa && is_ancestor(a, pa, parent)) {
		*err = refuse(a, "table at PA 0x%" G_GINT64_MODIFIER "x: loop "
			      "(it points back at itself or an ancestor)", pa);
		return NULL;
	}
	if (old) {
		*err = refuse(a, "table at PA 0x%" G_GINT64_MODIFIER "x: table "
			      "referenced twice (it overlaps the table at 0x%"
			      G_GINT64_MODIFIER "x)", pa, old->pa);
		return NULL;
	}
	va = claim_block(a, bpa, bsize, err);
	if (!va)
		return NULL;
	va += pa - bpa;
	memcpy(va, a->file + l->offset + (pa - l->pa), size);
	if (!a->coherent)
		iopgt_host_services.dma_sync(&a->t->mem, va, size);
	t = g_new(struct image_table, 1);
	*t = (struct image_table){ pa, size, parent };
	g_tree_insert(a->tables, &t->pa, t);
	a->claimed_bytes += size;
	*err = 0;
	return va;
}

/* Every block back to the host's memory: the format refused the image. */
static void release_blocks(struct adopt *a)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, a->blocks);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct image_block *b = value;

		iopgt_physmem_release(a->t->mem.pm, b->va, b->size);
		atomic_fetch_sub(&a->t->mem.table_bytes, (int64_t)b->size);
		atomic_fetch_sub(&a->t->mem.table_allocs, 1);
	}
	g_hash_table_remove_all(a->blocks);
}

/* ---- after the format: what it derived must be what the file says -------- */

struct reg_check {
	struct adopt *a;
	int ret;
};

static void check_reg(void *data, const char *name, uint64_t value)
{
	struct reg_check *c = data;
	uint64_t saved;

	if (c->ret || !name)
		return;
	c->ret = note_number(c->a, name, &saved);
	if (!c->ret && saved != value)
		c->ret = refuse(c->a, "register %s is 0x%" G_GINT64_MODIFIER
				"x in the image, 0x%" G_GINT64_MODIFIER "x as "
				"the format derives it", name, saved, value);
}

static int check_adopted(struct adopt *a, struct iopgt_pgtable *pgt,
			 const struct iopgt_cfg *saved, uint64_t root)
{
	const struct iopgt_cfg *cfg = &pgt->cfg;
	struct reg_check c = { a, 0 };

	if (cfg->ias != saved->ias || cfg->oas != saved->oas ||
	    cfg->pgsize_bitmap != saved->pgsize_bitmap ||
	    cfg->quirks != saved->quirks)
		return refuse(a, "the format narrows the saved cfg (ias %u, "
			      "oas %u, pgsizes 0x%lx): not a table it made",
			      saved->ias, saved->oas, saved->pgsize_bitmap);
	if (pgt->root_pa != root)
		return refuse(a, "root 0x%" G_GINT64_MODIFIER "x, the format's "
			      "is 0x%" G_GINT64_MODIFIER "x", root,
			      pgt->root_pa);
	if (a->claimed_bytes != a->load_bytes)
		return refuse(a, "%" G_GUINT64_FORMAT " bytes of the PT_LOADs "
			      "belong to no table", a->load_bytes -
			      a->claimed_bytes);
	if (pgt->ops.describe_regs)
		pgt->ops.describe_regs(&pgt->ops, check_reg, &c);
	return c.ret;
}

/* ---- the table's host side, as iopgt_pgtable_new_in() makes it ----------- */

static void priv_free(struct iopgt_host *host, struct iopgt_table_priv *t)
{
	iopgt_host_lock(host);
	g_hash_table_remove(t->plugin->holders, t);
	t->plugin->users--;
	iopgt_unload_table_gone(t->plugin);
	iopgt_host_unlock(host);
	if (t->old_labels)
		g_ptr_array_unref(t->old_labels);
	g_free(t->label);
	g_free(t);
	iopgt_host_unref(host);
}

/* The format and its host side; -EOPNOTSUPP when it cannot adopt. */
static int attach_format(struct adopt *a, const char *format)
{
	struct iopgt_table_priv *t = g_new0(struct iopgt_table_priv, 1);
	int ret = iopgt_ondemand_attach(a->host, format, t);

	if (ret < 0) {
		g_free(t);
		return ret;
	}
	iopgt_host_ref(a->host);
	a->t = t;
	/* the reserved slot is NULL in an older plugin, but say so first */
	if (t->plugin->desc->abi_minor < 3 || !t->fmt->adopt) {
		ERR(a->host, "table image: format '%s' cannot adopt a table "
		    "(its plugin has no adopt op)", t->fmt->name);
		return -EOPNOTSUPP;
	}
	if (t->mem.prov) {
		ERR(a->host, "table image: adopting into a memory provider's "
		    "memory is not supported");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int adopt_table(struct adopt *a, void *cookie,
		       struct iopgt_pgtable **out)
{
	g_autofree char *format = note_get(a, "format");
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_cfg cfg, saved;
	uint64_t root;
	int ret;

	if (!format)
		return refuse(a, "the note has no 'format'");
	ret = note_cfg(a, &cfg, &root);
	if (!ret)
		ret = attach_format(a, format);
	if (ret)
		return ret;
	saved = cfg;
	a->coherent = cfg.coherent_walk;
	a->src = (struct iopgt_image_src){ .root_pa = root,
					   .claim = image_claim, .priv = a };
	ret = a->t->fmt->adopt(&cfg, cookie, &a->t->env, &a->src, &pgt);
	if (ret == 0 && !pgt)
		ret = -EPROTO;
	if (ret < 0) {
		release_blocks(a);
		return ret;
	}
	pgt->fmt = a->t->fmt;
	pgt->cookie = cookie;
	pgt->cfg = cfg;
	pgt->host_priv = a->t;
	a->t->pgt = pgt;
	atomic_fetch_add(&a->host->tables, 1);
	/* from here the blocks are the format's: a refusal frees the table */
	a->t = NULL;
	ret = check_adopted(a, pgt, &saved, root);
	if (ret) {
		iopgt_pgtable_free(a->host, pgt);
		return ret;
	}
	*out = pgt;
	return 0;
}

int iopgt_pgtable_adopt(struct iopgt_host *host, int fd, void *cookie,
			struct iopgt_pgtable **out)
{
	struct adopt a = { .host = host };
	GByteArray *buf = NULL;
	int ret;

	g_return_val_if_fail(host && out, -EINVAL);
	if (fd < 0 || fcntl(fd, F_GETFL) < 0)
		return -EBADF;
	ret = read_all(host, fd, &buf);
	if (ret)
		return ret;
	a.file = buf->data;
	a.len = buf->len;
	a.loads = g_array_new(FALSE, FALSE, sizeof(struct image_load));
	a.tables = g_tree_new_full(pa_cmp, NULL, NULL, g_free);
	a.blocks = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					 g_free);
	ret = read_headers(&a);
	if (!ret)
		ret = adopt_table(&a, cookie, out);
	if (a.t)
		priv_free(host, a.t);
	g_hash_table_unref(a.blocks);
	g_tree_unref(a.tables);
	g_array_unref(a.loads);
	g_byte_array_unref(buf);
	return ret;
}
