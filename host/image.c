// SPDX-License-Identifier: MIT
/*
 * Table images: one live table written as an ELF core file, a container
 * readelf and gdb already read (docs/images.md has the layout).
 *
 *   ELF header | PT_NOTE, PT_LOAD... | "IOPGT" note | run | run | ...
 *
 * The walk says which memory is table memory: one PT_LOAD per run of
 * tables adjacent in PA, p_paddr = p_vaddr = the PA, so gdb's `x` at a
 * table's PA reads it.  Nothing the walk did not report is written (a v7s
 * L2 page holds other tables' slots).  The note is text, key=value lines:
 * the format, the cfg, the root and every register describe_regs emits.
 *
 * The file is written front to back with no seek, so fd may be a pipe.
 * Each run's data starts at a file offset congruent to its PA modulo
 * IMAGE_ALIGN, so a reader may mmap() a run in place.
 */
#include <elf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "iopgt-internal.h"

/*
 * The note's owner, and its type: text key=value lines, layout 1.  Core
 * readers decode small types as core notes whatever the owner (readelf
 * calls type 1 NT_PRSTATUS), so the type is four letters, "IOP1", as
 * Linux's NT_FILE is "FILE".  A layout an old reader must not take gets
 * a new type ("IOP2").
 */
#define IMAGE_NOTE_NAME		"IOPGT"
#define IMAGE_NOTE_TYPE		0x494f5031U
/* File offset congruent to the PA modulo this; also each PT_LOAD's p_align. */
#define IMAGE_ALIGN		4096U

/*
 * EM_NONE: the bytes are an IOMMU's tables, not the host CPU's memory;
 * naming the host machine would invite gdb to look for its threads.
 * EI_DATA is the host's byte order, in which the formats write their
 * descriptors and this file its headers.
 */
#define IMAGE_MACHINE		EM_NONE
#if __BYTE_ORDER == __LITTLE_ENDIAN
#define IMAGE_DATA		ELFDATA2LSB
#else
#define IMAGE_DATA		ELFDATA2MSB
#endif

/* One table as the walk reported it. */
struct image_piece {
	uint64_t pa;
	const void *va;
	size_t size;
};

/* One PT_LOAD: pieces [first, first + count), adjacent in PA. */
struct image_run {
	uint64_t pa;
	uint64_t size;
	uint64_t offset;		/* in the file */
	unsigned int first;
	unsigned int count;
};

struct image {
	struct iopgt_host *host;
	struct iopgt_pgtable *pgt;
	GArray *pieces;			/* struct image_piece, by PA */
	GArray *runs;			/* struct image_run */
	GString *note;			/* the key=value text */
	int bad_reg;			/* -EPROTO: a bad register name */
};

/* ---- collecting ---------------------------------------------------------- */

static int collect_table(void *data, uint64_t pa, const void *va, size_t size,
			 int level)
{
	struct image *img = data;
	struct image_piece p = { pa, va, size };

	(void)level;
	if (!size || !va || pa + (size - 1) < pa) {
		ERR(img->host, "format '%s': the walk reported a table at 0x%"
		    G_GINT64_MODIFIER "x of %zu bytes", img->pgt->fmt->name,
		    pa, size);
		return -EPROTO;
	}
	g_array_append_val(img->pieces, p);
	return 0;
}

static gint piece_cmp(gconstpointer a, gconstpointer b)
{
	const struct image_piece *x = a, *y = b;

	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/* Sort by PA and merge adjacent tables into runs; overlap is a bug. */
static int make_runs(struct image *img)
{
	struct image_run *run = NULL;

	g_array_sort(img->pieces, piece_cmp);
	for (unsigned int i = 0; i < img->pieces->len; i++) {
		const struct image_piece *p =
			&g_array_index(img->pieces, struct image_piece, i);

		if (run && p->pa < run->pa + run->size) {
			ERR(img->host, "format '%s': the walk reported tables "
			    "overlapping at 0x%" G_GINT64_MODIFIER "x",
			    img->pgt->fmt->name, p->pa);
			return -EPROTO;
		}
		if (run && p->pa == run->pa + run->size) {
			run->size += p->size;
			run->count++;
			continue;
		}
		g_array_append_val(img->runs, ((struct image_run){
			.pa = p->pa, .size = p->size, .first = i,
			.count = 1 }));
		run = &g_array_index(img->runs, struct image_run,
				     img->runs->len - 1);
	}
	return 0;
}

/* Letters, digits, '.', '_' and '-': a register name must stay one key. */
static bool key_ok(const char *name)
{
	if (!*name)
		return false;
	for (const char *c = name; *c; c++)
		if (!g_ascii_isalnum(*c) && !strchr("._-", *c))
			return false;
	return true;
}

/* The keys the host writes itself: a register may not take them. */
static bool key_reserved(const char *name)
{
	static const char *const keys[] = { "format", "ias", "oas",
		"pgsize_bitmap", "quirks", "coherent_walk", "root" };

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (!strcmp(name, keys[i]))
			return true;
	return false;
}

static void note_reg(void *data, const char *name, uint64_t value)
{
	struct image *img = data;

	if (img->bad_reg)
		return;
	if (!name || !key_ok(name) || key_reserved(name)) {
		g_autofree char *safe = g_strescape(name ? name : "(null)",
						    NULL);

		ERR(img->host, "format '%s': register name '%s' cannot be a "
		    "key of a table image", img->pgt->fmt->name, safe);
		img->bad_reg = -EPROTO;
		return;
	}
	g_string_append_printf(img->note, "%s=0x%" G_GINT64_MODIFIER "x\n",
			       name, value);
}

static int make_note(struct image *img)
{
	const struct iopgt_cfg *cfg = &img->pgt->cfg;
	GString *n = img->note;

	/* format names are [A-Za-z0-9_-] (checked at registration) */
	g_string_append_printf(n, "format=%s\n", img->pgt->fmt->name);
	g_string_append_printf(n, "ias=0x%x\noas=0x%x\n", cfg->ias, cfg->oas);
	g_string_append_printf(n, "pgsize_bitmap=0x%lx\nquirks=0x%lx\n",
			       cfg->pgsize_bitmap, cfg->quirks);
	g_string_append_printf(n, "coherent_walk=0x%x\n",
			       (unsigned int)cfg->coherent_walk);
	g_string_append_printf(n, "root=0x%" G_GINT64_MODIFIER "x\n",
			       img->pgt->root_pa);
	iopgt_pgtable_describe_regs(img->host, img->pgt, note_reg, img);
	return img->bad_reg;
}

/* ---- layout -------------------------------------------------------------- */

static inline uint64_t align_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Bytes of the note: header, name and text, each padded to 4. */
static size_t note_size(const struct image *img)
{
	return sizeof(Elf64_Nhdr) + align_up(sizeof(IMAGE_NOTE_NAME), 4) +
	       align_up(img->note->len, 4);
}

/*
 * More program headers than e_phnum holds (PN_XNUM or more) go the
 * gABI's way: e_phnum = PN_XNUM and the count in section header 0's
 * sh_info, which is then the file's only section header.
 */
static bool extended_phnum(size_t phnum)
{
	return phnum >= PN_XNUM;
}

/* Place each run at an offset congruent to its PA; returns the end. */
static uint64_t place_runs(struct image *img, uint64_t pos)
{
	for (unsigned int i = 0; i < img->runs->len; i++) {
		struct image_run *r =
			&g_array_index(img->runs, struct image_run, i);

		r->offset = pos + ((r->pa - pos) & (IMAGE_ALIGN - 1));
		pos = r->offset + r->size;
	}
	return pos;
}

static void fill_ehdr(Elf64_Ehdr *eh, size_t phnum, uint64_t shoff)
{
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = IMAGE_DATA;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = IMAGE_MACHINE;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = extended_phnum(phnum) ? PN_XNUM : (Elf64_Half)phnum;
	if (shoff) {
		eh->e_shoff = shoff;
		eh->e_shentsize = sizeof(Elf64_Shdr);
		eh->e_shnum = 1;
	}
}

/*
 * Everything before the first run: ELF header, program headers, note.
 * Returns the buffer (g_free it) and its length in *len, and the section
 * header offset (0: none) in *shoff.
 */
static uint8_t *build_headers(struct image *img, size_t *len, uint64_t *shoff)
{
	size_t phnum = 1 + img->runs->len;
	uint64_t note_off = sizeof(Elf64_Ehdr) + phnum * sizeof(Elf64_Phdr);
	uint64_t end = place_runs(img, note_off + note_size(img));
	uint8_t *buf = g_malloc0(note_off + note_size(img));
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
	Elf64_Nhdr *nh = (Elf64_Nhdr *)(buf + note_off);

	*shoff = extended_phnum(phnum) ? align_up(end, 8) : 0;
	fill_ehdr((Elf64_Ehdr *)buf, phnum, *shoff);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = note_off,
			      .p_filesz = note_size(img), .p_align = 4 };
	for (unsigned int i = 0; i < img->runs->len; i++) {
		const struct image_run *r =
			&g_array_index(img->runs, struct image_run, i);

		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R,
			.p_offset = r->offset,
			.p_vaddr = r->pa, .p_paddr = r->pa, .p_filesz = r->size,
			.p_memsz = r->size, .p_align = IMAGE_ALIGN };
	}
	nh->n_namesz = sizeof(IMAGE_NOTE_NAME);
	nh->n_descsz = img->note->len;
	nh->n_type = IMAGE_NOTE_TYPE;
	memcpy(nh + 1, IMAGE_NOTE_NAME, sizeof(IMAGE_NOTE_NAME));
	memcpy((uint8_t *)(nh + 1) + align_up(sizeof(IMAGE_NOTE_NAME), 4),
	       img->note->str, img->note->len);
	*len = note_off + note_size(img);
	return buf;
}

/* ---- writing ------------------------------------------------------------- */

struct image_out {
	int fd;
	uint64_t pos;			/* bytes written so far */
};

/* write() until done: short writes continue, EINTR retries. */
static int out_write(struct image_out *out, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(out->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		out->pos += (uint64_t)n;
	}
	return 0;
}

/* Zeros up to offset to (never backwards: the layout is front to back). */
static int out_pad(struct image_out *out, uint64_t to)
{
	static const uint8_t zeros[IMAGE_ALIGN];
	int ret = 0;

	while (!ret && out->pos < to) {
		uint64_t n = MIN(to - out->pos, (uint64_t)sizeof(zeros));

		ret = out_write(out, zeros, n);
	}
	return ret;
}

static int write_runs(struct image *img, struct image_out *out)
{
	for (unsigned int i = 0; i < img->runs->len; i++) {
		const struct image_run *r =
			&g_array_index(img->runs, struct image_run, i);
		int ret = out_pad(out, r->offset);

		/* each table from its own va: adjacent PAs need not be
		 * adjacent in the host's address space */
		for (unsigned int j = 0; !ret && j < r->count; j++) {
			const struct image_piece *p = &g_array_index(
				img->pieces, struct image_piece, r->first + j);

			ret = out_write(out, p->va, p->size);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int write_image(struct image *img, int fd)
{
	struct image_out out = { fd, 0 };
	g_autofree uint8_t *head = NULL;
	uint64_t shoff;
	size_t len;
	int ret;

	head = build_headers(img, &len, &shoff);
	ret = out_write(&out, head, len);
	if (!ret)
		ret = write_runs(img, &out);
	if (!ret && shoff) {
		Elf64_Shdr sh0 = { .sh_type = SHT_NULL,
				   .sh_info = 1 + img->runs->len };

		ret = out_pad(&out, shoff);
		if (!ret)
			ret = out_write(&out, &sh0, sizeof(sh0));
	}
	return ret;
}

/* ---- the export ---------------------------------------------------------- */

int iopgt_pgtable_save(struct iopgt_host *host, struct iopgt_pgtable *pgt,
		       int fd)
{
	static const struct iopgt_walk_ops collect = { .table = collect_table };
	struct image img = { host, pgt, NULL, NULL, NULL, 0 };
	int ret;

	g_return_val_if_fail(host && pgt, -EINVAL);
	g_return_val_if_fail(IOPGT_PGTABLE_IS_HOSTS(host, pgt), -EINVAL);
	if (fd < 0 || fcntl(fd, F_GETFL) < 0)
		return -EBADF;
	img.pieces = g_array_new(FALSE, FALSE, sizeof(struct image_piece));
	img.runs = g_array_new(FALSE, FALSE, sizeof(struct image_run));
	img.note = g_string_new(NULL);
	ret = iopgt_pgtable_walk(host, pgt, &collect, &img);
	if (!ret)
		ret = make_runs(&img);
	if (!ret)
		ret = make_note(&img);
	if (!ret)
		ret = write_image(&img, fd);
	if (ret)
		DBG(host, "table image of format '%s': %s", pgt->fmt->name,
		    g_strerror(-ret));
	g_array_unref(img.pieces);
	g_array_unref(img.runs);
	g_string_free(img.note, TRUE);
	return ret;
}
