// SPDX-License-Identifier: MIT
/*
 * Table images (docs/images.md): iopgt_pgtable_save() of a table of every
 * bundled format after a random workload, read back by a minimal ELF
 * reader of this file's own and by readelf: the headers, one PT_LOAD per
 * run of tables adjacent in PA, every table's bytes at its PA equal to
 * the live table's, and the note's text equal to the live format, cfg,
 * root and registers.  Then the refusals.  Then adopt: the image made a
 * live table again in a fresh host, identical under the walk, lookups and
 * further maps and unmaps; corrupt images refused one kind per test.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "host-fixture.h"

/* docs/images.md: the note's owner and type ("IOP1"), the run alignment */
#define NOTE_NAME	"IOPGT"
#define NOTE_TYPE	0x494f5031U
#define RUN_ALIGN	4096U

static const char *const formats[] = {
	"arm-64-lpae-s1", "arm-64-lpae-s2", "arm-32-lpae-s1",
	"arm-32-lpae-s2", "arm-mali-lpae", "arm-v7s",
};

/* ---- the live side ------------------------------------------------------- */

struct piece {
	uint64_t pa;
	const void *va;
	size_t size;
};

static int collect(void *data, uint64_t pa, const void *va, size_t size,
		   int level)
{
	struct piece p = { pa, va, size };

	(void)level;
	g_array_append_val((GArray *)data, p);
	return 0;
}

static GArray *live_tables(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	static const struct iopgt_walk_ops ops = { .table = collect };
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct piece));

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &ops, a), ==, 0);
	return a;
}

static gint piece_cmp(gconstpointer a, gconstpointer b)
{
	const struct piece *x = a, *y = b;

	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/* The runs the file must have: (pa, size) of tables adjacent in PA. */
static GArray *expected_runs(GArray *tables)
{
	g_autoptr(GArray) sorted = g_array_copy(tables);
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct piece));

	g_array_sort(sorted, piece_cmp);
	for (unsigned int i = 0; i < sorted->len; i++) {
		struct piece *p = &g_array_index(sorted, struct piece, i);
		struct piece *last = runs->len ? &g_array_index(runs,
					struct piece, runs->len - 1) : NULL;

		if (last && last->pa + last->size == p->pa)
			last->size += p->size;
		else
			g_array_append_val(runs, *p);
	}
	return runs;
}

static void add_reg(void *data, const char *name, uint64_t value)
{
	g_string_append_printf(data, "%s=0x%" G_GINT64_MODIFIER "x\n", name,
			       value);
}

/* The note text as docs/images.md writes it, from the live table. */
static char *expected_note(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "format=%s\nias=0x%x\noas=0x%x\n"
			       "pgsize_bitmap=0x%lx\nquirks=0x%lx\n"
			       "coherent_walk=0x%x\nroot=0x%" G_GINT64_MODIFIER
			       "x\n", pgt->fmt->name, pgt->cfg.ias,
			       pgt->cfg.oas, pgt->cfg.pgsize_bitmap,
			       pgt->cfg.quirks, pgt->cfg.coherent_walk,
			       pgt->root_pa);
	iopgt_pgtable_describe_regs(host, pgt, add_reg, s);
	return g_string_free(s, FALSE);
}

/*
 * Random 4K and 2M maps below 2^min(ias, 36) and outputs below
 * 2^min(oas, 36), then unmap a third of them: tables appear and (with
 * reclaim) go, so the walk reports more than the root.
 */
static void random_workload(struct iopgt_host *host, struct iopgt_pgtable *pgt,
			    guint32 seed)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
	unsigned int ibits = MIN(pgt->cfg.ias, 36U);
	unsigned int obits = MIN(pgt->cfg.oas, 36U);
	uint64_t iovas[48];
	size_t sizes[48];

	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i++) {
		size_t size = i % 8 == 7 && (pgt->cfg.pgsize_bitmap & SZ_2M) ?
			      SZ_2M : SZ_4K;
		uint64_t iova = ((uint64_t)g_rand_int(rand) << 32 |
				 g_rand_int(rand)) & ((1ULL << ibits) - 1);
		uint64_t pa = ((uint64_t)g_rand_int(rand) << 32 |
			       g_rand_int(rand)) & ((1ULL << obits) - 1);

		iova &= ~(uint64_t)(size - 1);
		pa &= ~(uint64_t)(size - 1);
		sizes[i] = size;
		iovas[i] = iopgt_pgtable_map(host, pgt, iova, pa, size,
					     IOMMU_READ | IOMMU_WRITE) ?
			   UINT64_MAX : iova;
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(iovas); i += 3)
		if (iovas[i] != UINT64_MAX)
			g_assert_cmpuint(iopgt_pgtable_unmap(host, pgt,
					 iovas[i], sizes[i], NULL), ==,
					 sizes[i]);
}

/* ---- a minimal ELF reader ------------------------------------------------ */

struct image_file {
	char *data;
	size_t len;
	const Elf64_Ehdr *eh;
	GArray *loads;			/* const Elf64_Phdr * */
	const char *note_name;
	uint32_t note_type;
	char *note_text;		/* NUL-terminated copy */
};

static void image_file_clear(struct image_file *img)
{
	g_free(img->data);
	if (img->loads)
		g_array_unref(img->loads);
	g_free(img->note_text);
}

static bool in_file(const struct image_file *img, uint64_t off, uint64_t len)
{
	return off <= img->len && len <= img->len - off;
}

static void read_note(struct image_file *img, const Elf64_Phdr *ph)
{
	const Elf64_Nhdr *nh;
	const char *name;

	g_assert_true(in_file(img, ph->p_offset, ph->p_filesz));
	g_assert_cmpuint(ph->p_filesz, >=, sizeof(*nh));
	g_assert_null(img->note_text);
	nh = (const Elf64_Nhdr *)(img->data + ph->p_offset);
	name = (const char *)(nh + 1);
	g_assert_cmpuint(ph->p_filesz, ==, sizeof(*nh) +
			 ((nh->n_namesz + 3) & ~3U) +
			 ((nh->n_descsz + 3) & ~3U));
	img->note_name = name;
	g_assert_cmpuint(nh->n_namesz, ==, strlen(NOTE_NAME) + 1);
	g_assert_cmpint(name[nh->n_namesz - 1], ==, 0);
	img->note_type = nh->n_type;
	img->note_text = g_strndup(name + ((nh->n_namesz + 3) & ~3U),
				   nh->n_descsz);
	g_assert_cmpuint(strlen(img->note_text), ==, nh->n_descsz);
}

static void read_load(struct image_file *img, const Elf64_Phdr *ph)
{
	g_assert_true(in_file(img, ph->p_offset, ph->p_filesz));
	g_assert_cmpuint(ph->p_filesz, ==, ph->p_memsz);
	g_assert_cmpuint(ph->p_vaddr, ==, ph->p_paddr);
	g_assert_cmpuint(ph->p_align, ==, RUN_ALIGN);
	g_assert_cmpuint(ph->p_offset % RUN_ALIGN, ==, ph->p_paddr % RUN_ALIGN);
	g_assert_cmpuint(ph->p_flags, ==, PF_R);
	g_array_append_val(img->loads, ph);
}

static void image_file_read(struct image_file *img, const char *path)
{
	static const unsigned char ident[] = { ELFMAG0, ELFMAG1, ELFMAG2,
		ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_NONE };
	const Elf64_Phdr *ph;

	*img = (struct image_file){ 0 };
	g_assert_true(g_file_get_contents(path, &img->data, &img->len, NULL));
	g_assert_cmpuint(img->len, >=, sizeof(Elf64_Ehdr));
	img->eh = (const Elf64_Ehdr *)img->data;
	if (G_BYTE_ORDER == G_LITTLE_ENDIAN)
		g_assert_cmpmem(img->eh->e_ident, sizeof(ident), ident,
				sizeof(ident));
	g_assert_cmpuint(img->eh->e_type, ==, ET_CORE);
	g_assert_cmpuint(img->eh->e_machine, ==, EM_NONE);
	g_assert_cmpuint(img->eh->e_version, ==, EV_CURRENT);
	g_assert_cmpuint(img->eh->e_phentsize, ==, sizeof(Elf64_Phdr));
	g_assert_cmpuint(img->eh->e_shnum, ==, 0);
	g_assert_true(in_file(img, img->eh->e_phoff,
			      (uint64_t)img->eh->e_phnum * sizeof(*ph)));
	img->loads = g_array_new(FALSE, FALSE, sizeof(ph));
	ph = (const Elf64_Phdr *)(img->data + img->eh->e_phoff);
	for (unsigned int i = 0; i < img->eh->e_phnum; i++) {
		if (ph[i].p_type == PT_NOTE)
			read_note(img, &ph[i]);
		else if (ph[i].p_type == PT_LOAD)
			read_load(img, &ph[i]);
		else
			g_assert_not_reached();
	}
	g_assert_nonnull(img->note_text);
}

/* The file's bytes at [pa, pa + size), which one PT_LOAD must hold. */
static const void *image_at(const struct image_file *img, uint64_t pa,
			    size_t size)
{
	for (unsigned int i = 0; i < img->loads->len; i++) {
		const Elf64_Phdr *ph = g_array_index(img->loads,
						     const Elf64_Phdr *, i);

		if (pa >= ph->p_paddr && pa - ph->p_paddr <= ph->p_filesz &&
		    size <= ph->p_filesz - (pa - ph->p_paddr))
			return img->data + ph->p_offset + (pa - ph->p_paddr);
	}
	return NULL;
}

/* ---- readelf ------------------------------------------------------------- */

static char *run_readelf(const char *opt, const char *path)
{
	const char *argv[] = { "readelf", opt, "-W", path, NULL };
	g_autofree char *err = NULL;
	g_autoptr(GError) e = NULL;
	char *out = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL,
				   G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
				   &err, &status, &e));
	g_assert_no_error(e);
	g_assert_true(g_spawn_check_wait_status(status, NULL));
	/* a warning means readelf found something odd in the file */
	g_assert_cmpstr(err, ==, "");
	return out;
}

/* The PhysAddr of every LOAD line of `readelf -l -W`, in order. */
static void assert_readelf_loads(const char *path, GArray *runs)
{
	g_autofree char *out = run_readelf("-l", path);
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
	unsigned int n = 0;

	for (char **l = lines; *l; l++) {
		uint64_t off, vaddr, paddr, filesz, memsz;
		const struct piece *r;

		if (sscanf(*l, " LOAD 0x%" G_GINT64_MODIFIER "x 0x%"
			   G_GINT64_MODIFIER "x 0x%" G_GINT64_MODIFIER "x 0x%"
			   G_GINT64_MODIFIER "x 0x%" G_GINT64_MODIFIER "x",
			   &off, &vaddr, &paddr, &filesz, &memsz) != 5)
			continue;
		g_assert_cmpuint(n, <, runs->len);
		r = &g_array_index(runs, struct piece, n++);
		g_assert_cmpuint(paddr, ==, r->pa);
		g_assert_cmpuint(vaddr, ==, r->pa);
		g_assert_cmpuint(filesz, ==, r->size);
		g_assert_cmpuint(memsz, ==, r->size);
	}
	g_assert_cmpuint(n, ==, runs->len);
	g_assert_nonnull(strstr(out, "Elf file type is CORE (Core file)"));
}

static void assert_readelf_note(const char *path)
{
	g_autofree char *out = run_readelf("-n", path);

	g_assert_nonnull(strstr(out, "  IOPGT  "));
	g_assert_nonnull(strstr(out, "Unknown note type: (0x494f5031)"));
}

/* ---- the round trip to a file -------------------------------------------- */

static char *save_to_file(struct host_fixture *f, struct iopgt_pgtable *pgt,
			  const char *name)
{
	char *path = g_build_filename(f->tmpdir, name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, 0);
	g_assert_cmpint(close(fd), ==, 0);
	return path;
}

/* Everything the file says equals the live table. */
static void assert_image_matches(struct host_fixture *f,
				 struct iopgt_pgtable *pgt, const char *path,
				 unsigned int min_runs)
{
	g_autoptr(GArray) tables = live_tables(f->host, pgt);
	g_autoptr(GArray) runs = expected_runs(tables);
	g_autofree char *note = expected_note(f->host, pgt);
	struct image_file img;

	image_file_read(&img, path);
	g_test_message("%s: %u tables in %u runs, %zu bytes", pgt->fmt->name,
		       tables->len, runs->len, img.len);
	g_assert_cmpuint(runs->len, >=, min_runs);
	g_assert_cmpuint(img.loads->len, ==, runs->len);
	for (unsigned int i = 0; i < runs->len; i++) {
		const Elf64_Phdr *ph = g_array_index(img.loads,
						     const Elf64_Phdr *, i);
		const struct piece *r = &g_array_index(runs, struct piece, i);

		g_assert_cmpuint(ph->p_paddr, ==, r->pa);
		g_assert_cmpuint(ph->p_filesz, ==, r->size);
	}
	for (unsigned int i = 0; i < tables->len; i++) {
		const struct piece *p = &g_array_index(tables, struct piece, i);
		const void *bytes = image_at(&img, p->pa, p->size);

		g_assert_nonnull(bytes);
		g_assert_cmpmem(bytes, p->size, p->va, p->size);
	}
	g_assert_cmpstr(img.note_name, ==, NOTE_NAME);
	g_assert_cmpuint(img.note_type, ==, NOTE_TYPE);
	g_assert_cmpstr(img.note_text, ==, note);
	image_file_clear(&img);
	assert_readelf_loads(path, runs);
	assert_readelf_note(path);
}

static struct iopgt_pgtable *new_table(struct host_fixture *f,
				       const char *format, unsigned long quirks)
{
	struct iopgt_cfg cfg = { .quirks = quirks, .coherent_walk = true };
	struct iopgt_pgtable *pgt = NULL;

	/* the bundled plugins, loaded on demand */
	if (!iopgt_host_find_plugin(f->host, "io-pgtable-arm")) {
		g_assert_cmpint(iopgt_host_add_plugin_dir(f->host,
							  test_plugin_dir()),
				==, 0);
		g_assert_cmpint(iopgt_host_scan(f->host), >=, 2);
	}
	g_assert_cmpint(iopgt_pgtable_new(f->host, format, &cfg, NULL, &pgt),
			==, 0);
	return pgt;
}

static void test_every_format(struct host_fixture *f, gconstpointer data)
{
	g_test_summary("Issue 14 item 5: the image of a table of every bundled "
		       "format after a random workload: ET_CORE, one PT_LOAD "
		       "per run of tables adjacent in PA, each table's bytes "
		       "at its PA, the note's format, cfg, root and registers; "
		       "readelf -l and -n read it");
	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
		struct iopgt_pgtable *pgt = new_table(f, formats[i], 0);
		g_autofree char *name = g_strconcat(formats[i], ".core", NULL);
		g_autofree char *path = NULL;

		random_workload(f->host, pgt, 1400 + (guint32)i);
		path = save_to_file(f, pgt, name);
		assert_image_matches(f, pgt, path, 1);
		iopgt_pgtable_free(f->host, pgt);
	}
}

/* With reclaim, unmapping the middle of three tables leaves a hole. */
static void test_runs_split_at_holes(struct host_fixture *f,
				     gconstpointer data)
{
	struct iopgt_pgtable *pgt = new_table(f, "arm-64-lpae-s1",
					      IOPGT_QUIRK_RECLAIM_TABLES);
	g_autofree char *path = NULL;

	g_test_summary("Issue 14 item 5: tables not adjacent in PA are "
		       "separate PT_LOADs; nothing between them is written");
	(void)data;
	for (unsigned int i = 0; i < 3; i++)
		g_assert_cmpint(iopgt_pgtable_map(f->host, pgt,
				(unsigned long)i << 21, 0x80000000, SZ_4K,
				IOMMU_READ), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_unmap(f->host, pgt, 1UL << 21, SZ_4K,
					     NULL), ==, SZ_4K);
	path = save_to_file(f, pgt, "holes.core");
	assert_image_matches(f, pgt, path, 2);
	iopgt_pgtable_free(f->host, pgt);
}

/* ---- a pipe: written front to back --------------------------------------- */

struct reader {
	int fd;
	GByteArray *bytes;
};

static gpointer read_all(gpointer data)
{
	struct reader *r = data;
	uint8_t buf[4096];
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		g_byte_array_append(r->bytes, buf, (guint)n);
	g_assert_cmpint(n, ==, 0);
	return NULL;
}

static void test_pipe(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *pgt = new_table(f, "arm-v7s", 0);
	struct reader r = { -1, g_byte_array_new() };
	g_autofree char *path = NULL, *file = NULL;
	GThread *thread;
	size_t len;
	int fds[2];

	g_test_summary("Issue 14 item 5: save never seeks: to a pipe it "
		       "writes the same bytes as to a file");
	(void)data;
	random_workload(f->host, pgt, 77);
	path = save_to_file(f, pgt, "v7s.core");
	g_assert_cmpint(pipe(fds), ==, 0);
	r.fd = fds[0];
	thread = g_thread_new("reader", read_all, &r);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fds[1]), ==, 0);
	close(fds[1]);
	g_thread_join(thread);
	close(fds[0]);
	g_assert_true(g_file_get_contents(path, &file, &len, NULL));
	g_assert_cmpmem(r.bytes->data, r.bytes->len, file, len);
	g_byte_array_unref(r.bytes);
	iopgt_pgtable_free(f->host, pgt);
}

/* ---- refusals ------------------------------------------------------------ */

static void test_refusals(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *pgt = new_table(f, "arm-64-lpae-s1", 0);
	struct iopgt_host *other = iopgt_host_new();
	g_autofree char *path = g_build_filename(f->tmpdir, "ro", NULL);
	struct stat st;
	int fd;

	g_test_summary("Issue 14 item 5: save refuses a table of another host "
		       "(a critical, -EINVAL) and a bad descriptor (-EBADF: "
		       "closed, negative, read-only), and passes a write "
		       "error on (/dev/full: -ENOSPC)");
	(void)data;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL,
			      "*assertion 'IOPGT_PGTABLE_IS_HOSTS(host, pgt)' "
			      "failed*");
	g_assert_cmpint(iopgt_pgtable_save(other, pgt, fd), ==, -EINVAL);
	g_test_assert_expected_messages();
	close(fd);
	iopgt_host_unref(other);

	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, -1), ==, -EBADF);
	/* fd is closed now, and no other thread of this test opens one */
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, -EBADF);

	g_assert_true(g_file_set_contents(path, "keep", 4, NULL));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, -EBADF);
	close(fd);
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_size, ==, 4);

	fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(iopgt_pgtable_save(f->host, pgt, fd), ==, -ENOSPC);
	close(fd);
	iopgt_pgtable_free(f->host, pgt);
}

/* ---- adopt: a live table from an image ---------------------------------- */

/*
 * The walk as text, table addresses left out: a table made after the
 * adopt may sit elsewhere in the other host's memory, everything else
 * (levels, slots, leaves with their raw descriptors) must be equal.
 */
static int shape_table(void *data, uint64_t pa, const void *va, size_t size,
		       int level)
{
	(void)pa;
	(void)va;
	g_string_append_printf(data, "T%d %zu\n", level, size);
	return 0;
}

static int shape_entry(void *data, const struct iopgt_walk_entry *e)
{
	if (e->kind == IOPGT_ENTRY_TABLE)
		g_string_append_printf(data, "t%d %u %lx\n", e->level,
				       e->index, e->iova);
	else
		g_string_append_printf(data, "l%d %u %lx %zx %" G_GINT64_MODIFIER
				       "x %d\n", e->level, e->index, e->iova,
				       e->size, e->raw, e->prot);
	return 0;
}

static char *shape(struct iopgt_host *host, struct iopgt_pgtable *pgt)
{
	static const struct iopgt_walk_ops ops = { shape_table, shape_entry,
						   NULL };
	GString *s = g_string_new(NULL);

	g_assert_cmpint(iopgt_pgtable_walk(host, pgt, &ops, s), ==, 0);
	return g_string_free(s, FALSE);
}

static struct iopgt_host *fresh_host(void)
{
	struct iopgt_host *host = iopgt_host_new();

	/* as the fixture's host: no fork() from this threaded process */
	iopgt_host_set_probe(host, false);
	g_assert_cmpint(iopgt_host_add_plugin_dir(host, test_plugin_dir()),
			==, 0);
	g_assert_cmpint(iopgt_host_scan(host), >=, 2);
	return host;
}

static int adopt_file(struct iopgt_host *host, const char *path,
		      struct iopgt_pgtable **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret;

	g_assert_cmpint(fd, >=, 0);
	ret = iopgt_pgtable_adopt(host, fd, NULL, out);
	close(fd);
	return ret;
}

/* iova_to_phys of every leaf (first and last byte) and of random iovas. */
static void assert_same_lookups(struct iopgt_host *ha, struct iopgt_pgtable *a,
				struct iopgt_host *hb, struct iopgt_pgtable *b,
				GRand *rand)
{
	unsigned int ibits = MIN(a->cfg.ias, 36U);

	for (unsigned int i = 0; i < 64; i++) {
		unsigned long iova = ((uint64_t)g_rand_int(rand) << 32 |
				      g_rand_int(rand)) & ((1ULL << ibits) - 1);

		g_assert_cmpuint(iopgt_pgtable_iova_to_phys(ha, a, iova), ==,
				 iopgt_pgtable_iova_to_phys(hb, b, iova));
	}
	for (unsigned long iova = 0; iova < (1UL << ibits);
	     iova += 1UL << 21) {
		g_assert_cmpuint(iopgt_pgtable_iova_to_phys(ha, a, iova), ==,
				 iopgt_pgtable_iova_to_phys(hb, b, iova));
		if (iova >> 30 > 4)
			break;
	}
}

/* Every leaf of a, looked up in both at its first and last byte. */
static int lookup_leaf(void *data, const struct iopgt_walk_entry *e)
{
	void **ctx = data;

	if (e->kind != IOPGT_ENTRY_LEAF)
		return 0;
	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(ctx[0], ctx[1], e->iova),
			 ==, iopgt_pgtable_iova_to_phys(ctx[2], ctx[3],
							e->iova));
	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(ctx[0], ctx[1],
						    e->iova + e->size - 1),
			 ==, iopgt_pgtable_iova_to_phys(ctx[2], ctx[3],
						       e->iova + e->size - 1));
	return 0;
}

static void assert_same(struct iopgt_host *ha, struct iopgt_pgtable *a,
			struct iopgt_host *hb, struct iopgt_pgtable *b,
			GRand *rand)
{
	static const struct iopgt_walk_ops leaves = { .entry = lookup_leaf };
	g_autofree char *sa = shape(ha, a), *sb = shape(hb, b);
	void *ctx[4] = { ha, a, hb, b };

	g_assert_cmpstr(sa, ==, sb);
	g_assert_cmpint(iopgt_pgtable_walk(ha, a, &leaves, ctx), ==, 0);
	assert_same_lookups(ha, a, hb, b, rand);
}

/* One random map or unmap on both tables: the same answer from each. */
static void same_step(struct iopgt_host *ha, struct iopgt_pgtable *a,
		      struct iopgt_host *hb, struct iopgt_pgtable *b,
		      GRand *rand, GArray *mapped)
{
	unsigned int ibits = MIN(a->cfg.ias, 36U);
	unsigned int obits = MIN(a->cfg.oas, 36U);
	size_t size = g_rand_int_range(rand, 0, 8) == 7 &&
		      (a->cfg.pgsize_bitmap & SZ_2M) ? SZ_2M : SZ_4K;
	uint64_t iova = ((uint64_t)g_rand_int(rand) << 32 | g_rand_int(rand)) &
			((1ULL << ibits) - 1) & ~(uint64_t)(size - 1);
	uint64_t pa = ((uint64_t)g_rand_int(rand) << 32 | g_rand_int(rand)) &
		      ((1ULL << obits) - 1) & ~(uint64_t)(size - 1);

	int ret;

	if (mapped->len && g_rand_boolean(rand)) {
		unsigned int i = g_rand_int_range(rand, 0,
						  (gint32)mapped->len / 2);
		uint64_t *m = &g_array_index(mapped, uint64_t, i * 2);

		g_assert_cmpuint(iopgt_pgtable_unmap(ha, a, m[0], m[1], NULL),
				 ==, iopgt_pgtable_unmap(hb, b, m[0], m[1],
							 NULL));
		g_array_remove_range(mapped, i * 2, 2);
		return;
	}
	ret = iopgt_pgtable_map(ha, a, iova, pa, size, IOMMU_READ | IOMMU_WRITE);
	g_assert_cmpint(ret, ==, iopgt_pgtable_map(hb, b, iova, pa, size,
						   IOMMU_READ | IOMMU_WRITE));
	if (!ret) {
		uint64_t pair[2] = { iova, size };

		g_array_append_vals(mapped, pair, 2);
	}
}

static void assert_no_memory(struct iopgt_host *host)
{
	struct iopgt_mem_stats st;

	iopgt_host_get_mem_stats(host, &st);
	g_assert_cmpuint(st.table_bytes, ==, 0);
	g_assert_cmpuint(st.table_allocs, ==, 0);
	g_assert_cmpuint(st.state_bytes, ==, 0);
}

static const struct {
	const char *format;
	unsigned long quirks;
} adoptable[] = {
	{ "arm-64-lpae-s1", 0 },
	{ "arm-64-lpae-s1", IOPGT_QUIRK_RECLAIM_TABLES },
	{ "arm-64-lpae-s2", 0 },
	{ "arm-32-lpae-s1", 0 },
	{ "arm-32-lpae-s2", IOPGT_QUIRK_RECLAIM_TABLES },
	{ "arm-mali-lpae", 0 },
	{ "arm-v7s", 0 },
	{ "arm-v7s", IOPGT_QUIRK_RECLAIM_TABLES },
};

static void test_adopt_round_trip(struct host_fixture *f, gconstpointer data)
{
	g_test_summary("Issue 14 items 5-6: save, adopt into a fresh host: the "
		       "walk, iova_to_phys of every leaf and of holes, and 40 "
		       "further random maps and unmaps are identical on the "
		       "original and the adopted table; free gives back every "
		       "byte");
	(void)data;
	for (size_t i = 0; i < G_N_ELEMENTS(adoptable); i++) {
		struct iopgt_pgtable *a = new_table(f, adoptable[i].format,
						    adoptable[i].quirks);
		struct iopgt_host *hb = fresh_host();
		g_autoptr(GRand) rand = g_rand_new_with_seed(900 + (guint32)i);
		g_autoptr(GArray) mapped = g_array_new(FALSE, FALSE,
						       sizeof(uint64_t));
		g_autofree char *name = g_strdup_printf("adopt-%zu.core", i);
		g_autofree char *path = NULL;
		g_autofree char *walk_a = NULL, *walk_b = NULL;
		struct iopgt_pgtable *b = NULL;

		random_workload(f->host, a, 1400 + (guint32)i);
		path = save_to_file(f, a, name);
		g_assert_cmpint(adopt_file(hb, path, &b), ==, 0);
		/* at the same PAs: the full walk, addresses and all */
		walk_a = walk_to_text(f->host, a);
		walk_b = walk_to_text(hb, b);
		g_assert_cmpstr(walk_a, ==, walk_b);
		g_assert_cmpuint(a->root_pa, ==, b->root_pa);
		g_assert_cmpmem(&a->cfg.regs, sizeof(a->cfg.regs), &b->cfg.regs,
				sizeof(b->cfg.regs));
		assert_same(f->host, a, hb, b, rand);
		for (unsigned int step = 0; step < 40; step++) {
			same_step(f->host, a, hb, b, rand, mapped);
			assert_same(f->host, a, hb, b, rand);
		}
		iopgt_pgtable_free(f->host, a);
		iopgt_pgtable_free(hb, b);
		assert_no_memory(hb);
		iopgt_host_unref(hb);
	}
}

/* ---- adopt: corrupt images ------------------------------------------------ */

/* One 4K page mapped at 0x1000 in arm-64-lpae-s1, oas 40: four tables. */
struct corrupt {
	struct image_file img;
	char *path;
	uint64_t pa[4];			/* the table at each level */
};

static int level_pa(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	(void)va;
	(void)size;
	((uint64_t *)data)[level] = pa;
	return 0;
}

static void corrupt_setup(struct host_fixture *f, struct corrupt *c)
{
	static const struct iopgt_walk_ops levels = { .table = level_pa };
	struct iopgt_cfg cfg = { .ias = 48, .oas = 40, .coherent_walk = true };
	struct iopgt_pgtable *pgt = NULL;

	/* new_table() adds the bundled plugins */
	iopgt_pgtable_free(f->host, new_table(f, "arm-v7s", 0));
	g_assert_cmpint(iopgt_pgtable_new(f->host, "arm-64-lpae-s1", &cfg,
					  NULL, &pgt), ==, 0);
	g_assert_cmpint(iopgt_pgtable_map(f->host, pgt, 0x1000, 0x80001000,
					  SZ_4K, IOMMU_READ), ==, 0);
	g_assert_cmpint(iopgt_pgtable_walk(f->host, pgt, &levels, c->pa), ==,
			0);
	c->path = save_to_file(f, pgt, "good.core");
	iopgt_pgtable_free(f->host, pgt);
	image_file_read(&c->img, c->path);
}

static uint64_t *table_in_file(struct corrupt *c, int level)
{
	return (uint64_t *)image_at(&c->img, c->pa[level], SZ_4K);
}

/*
 * Adopting the changed bytes is refused with exactly this line, and
 * leaves nothing: the good image then adopts at the same PAs.
 */
static void assert_refused(struct host_fixture *f, struct corrupt *c,
			   size_t len, const char *line)
{
	g_autofree char *bad = g_build_filename(f->tmpdir, "bad.core", NULL);
	struct iopgt_pgtable *pgt = NULL;

	g_assert_true(g_file_set_contents(bad, c->img.data, (gssize)len,
					  NULL));
	g_assert_cmpint(adopt_file(f->host, bad, &pgt), ==, -EINVAL);
	g_assert_null(pgt);
	assert_logged(f, line);
	assert_no_memory(f->host);
	g_assert_cmpint(adopt_file(f->host, c->path, &pgt), ==, 0);
	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(f->host, pgt, 0x1234), ==,
			 0x80001234);
	iopgt_pgtable_free(f->host, pgt);
	assert_no_memory(f->host);
	image_file_clear(&c->img);
	g_free(c->path);
}

static void test_adopt_loop(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	g_autofree char *line = NULL;

	g_test_summary("Issue 14 item 5: a level-1 entry pointing at its own "
		       "table is refused as a loop");
	(void)data;
	corrupt_setup(f, &c);
	table_in_file(&c, 1)[5] = c.pa[1] | 3;
	line = g_strdup_printf("err: table image: table at PA 0x%"
			       G_GINT64_MODIFIER "x: loop (it points back at "
			       "itself or an ancestor)", c.pa[1]);
	assert_refused(f, &c, c.img.len, line);
}

static void test_adopt_twice(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	g_autofree char *line = NULL;

	g_test_summary("Issue 14 item 5: two level-1 entries pointing at one "
		       "level-2 table are refused");
	(void)data;
	corrupt_setup(f, &c);
	table_in_file(&c, 1)[5] = c.pa[2] | 3;
	line = g_strdup_printf("err: table image: table at PA 0x%"
			       G_GINT64_MODIFIER "x: table referenced twice "
			       "(it overlaps the table at 0x%"
			       G_GINT64_MODIFIER "x)", c.pa[2], c.pa[2]);
	assert_refused(f, &c, c.img.len, line);
}

static void test_adopt_outside(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;

	g_test_summary("Issue 14 item 5: a table pointer to memory the image "
		       "does not hold is refused");
	(void)data;
	corrupt_setup(f, &c);
	table_in_file(&c, 2)[9] = 0x90000000 | 3;
	assert_refused(f, &c, c.img.len, "err: table image: table at PA "
		       "0x90000000: pointer outside the image");
}

static void test_adopt_beyond_oas(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	g_autofree char *line = NULL;
	uint64_t *l3;

	g_test_summary("Issue 14 item 5: a leaf whose output address is "
		       "beyond the image's oas (40) is refused");
	(void)data;
	corrupt_setup(f, &c);
	l3 = table_in_file(&c, 3);
	l3[2] = (l3[1] & ~0xfffffffff000ULL) | (1ULL << 41);
	line = g_strdup_printf("warning: lpae: adopt: entry 2 of the level-3 "
			       "table at 0x%" G_GINT64_MODIFIER "x: output "
			       "0x20000000000: entry beyond oas 40", c.pa[3]);
	assert_refused(f, &c, c.img.len, line);
}

static void test_adopt_truncated(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	g_autofree char *line = NULL;
	const Elf64_Phdr *ph;

	g_test_summary("Issue 14 item 5: a file cut one byte short is refused: "
		       "its PT_LOAD runs past the end");
	(void)data;
	corrupt_setup(f, &c);
	ph = g_array_index(c.img.loads, const Elf64_Phdr *, 0);
	line = g_strdup_printf("err: table image: PT_LOAD 1 (%" G_GUINT64_FORMAT
			       " bytes at offset 0x%" G_GINT64_MODIFIER "x) "
			       "runs past the end of the file (%zu bytes)",
			       (uint64_t)ph->p_filesz, (uint64_t)ph->p_offset,
			       c.img.len - 1);
	assert_refused(f, &c, c.img.len - 1, line);
}

static void test_adopt_huge_load(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	g_autofree char *line = NULL;
	Elf64_Phdr *ph;

	g_test_summary("Issue 14 item 5: a PT_LOAD claiming 2^60 bytes is "
		       "refused before anything is read or allocated");
	(void)data;
	corrupt_setup(f, &c);
	ph = (Elf64_Phdr *)g_array_index(c.img.loads, const Elf64_Phdr *, 0);
	ph->p_filesz = ph->p_memsz = 1ULL << 60;
	line = g_strdup_printf("err: table image: PT_LOAD 1 (1152921504606846976 "
			       "bytes at offset 0x%" G_GINT64_MODIFIER "x) runs "
			       "past the end of the file (%zu bytes)",
			       (uint64_t)ph->p_offset, c.img.len);
	assert_refused(f, &c, c.img.len, line);
}

static void test_adopt_no_note(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	Elf64_Phdr *ph;

	g_test_summary("Issue 14 item 5: an image without its IOPGT note is "
		       "refused");
	(void)data;
	corrupt_setup(f, &c);
	ph = (Elf64_Phdr *)(c.img.data + c.img.eh->e_phoff);
	g_assert_cmpuint(ph->p_type, ==, PT_NOTE);
	ph->p_type = PT_NULL;
	assert_refused(f, &c, c.img.len, "err: table image: no IOPGT note");
}

static void test_adopt_stray_bytes(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;

	g_test_summary("Issue 14 item 5: a PT_LOAD holding a table nobody "
		       "points to (the level-2 entry cleared) is refused after "
		       "the format took the rest, which is then freed");
	(void)data;
	corrupt_setup(f, &c);
	table_in_file(&c, 2)[0] = 0;
	assert_refused(f, &c, c.img.len, "err: table image: 4096 bytes of "
		       "the PT_LOADs belong to no table");
}

static void test_adopt_register(struct host_fixture *f, gconstpointer data)
{
	struct corrupt c;
	char *reg;

	g_test_summary("Issue 14 item 5: a register in the note that the "
		       "format does not derive from the cfg (tcr.tsz) is "
		       "refused");
	(void)data;
	corrupt_setup(f, &c);
	reg = strstr((char *)c.img.note_name + 8, "tcr.tsz=0x10\n");
	g_assert_nonnull(reg);
	memcpy(reg, "tcr.tsz=0x11\n", 13);
	assert_refused(f, &c, c.img.len, "err: table image: register tcr.tsz "
		       "is 0x11 in the image, 0x10 as the format derives it");
}

static void test_adopt_busy(struct host_fixture *f, gconstpointer data)
{
	struct iopgt_pgtable *a = NULL, *b = NULL;
	g_autofree char *line = NULL;
	struct corrupt c;

	g_test_summary("Issue 14 item 5: an image whose PAs the host's memory "
		       "already uses (the same image adopted twice) gives "
		       "-EBUSY, and the first table is untouched");
	(void)data;
	corrupt_setup(f, &c);
	g_assert_cmpint(adopt_file(f->host, c.path, &a), ==, 0);
	g_assert_cmpint(adopt_file(f->host, c.path, &b), ==, -EBUSY);
	g_assert_null(b);
	line = g_strdup_printf("err: table image: PA 0x%" G_GINT64_MODIFIER
			       "x (4096 bytes) is in use in this host's memory",
			       c.pa[0]);
	assert_logged(f, line);
	g_assert_cmpuint(iopgt_pgtable_iova_to_phys(f->host, a, 0x1234), ==,
			 0x80001234);
	iopgt_pgtable_free(f->host, a);
	assert_no_memory(f->host);
	image_file_clear(&c.img);
	g_free(c.path);
}

static void test_adopt_no_op(struct host_fixture *f, gconstpointer data)
{
	g_autofree char *so = fixture_so("good", "fixture-good-a");
	struct iopgt_pgtable *pgt = NULL;
	struct corrupt c;
	char *fmt;

	g_test_summary("Issue 14 item 6: a format without the adopt op (the "
		       "fixture's fake-a) gives -EOPNOTSUPP and says so");
	(void)data;
	corrupt_setup(f, &c);
	g_assert_cmpint(iopgt_host_load_plugin_file(f->host, so, NULL), ==, 0);
	/* the same length: the rest of the line becomes a key nobody knows */
	/* the text follows the name "IOPGT\0", padded to 8 bytes */
	fmt = (char *)c.img.note_name + 8;
	g_assert_cmpint(strncmp(fmt, "format=arm-64-lpae-s1\n", 22), ==, 0);
	memcpy(fmt, "format=fake-a\nxy=0x00\n", 22);
	g_assert_true(g_file_set_contents(c.path, c.img.data,
					  (gssize)c.img.len, NULL));
	g_assert_cmpint(adopt_file(f->host, c.path, &pgt), ==, -EOPNOTSUPP);
	g_assert_null(pgt);
	assert_logged(f, "err: table image: format 'fake-a' cannot adopt a "
		      "table (its plugin has no adopt op)");
	assert_no_memory(f->host);
	image_file_clear(&c.img);
	g_free(c.path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	host_test_add("/host/image/every-format-round-trips-to-elf",
		      test_every_format);
	host_test_add("/host/image/runs-split-at-holes",
		      test_runs_split_at_holes);
	host_test_add("/host/image/pipe-gets-the-same-bytes", test_pipe);
	host_test_add("/host/image/refusals", test_refusals);
	host_test_add("/host/image/adopt/round-trip", test_adopt_round_trip);
	host_test_add("/host/image/adopt/loop", test_adopt_loop);
	host_test_add("/host/image/adopt/referenced-twice", test_adopt_twice);
	host_test_add("/host/image/adopt/pointer-outside", test_adopt_outside);
	host_test_add("/host/image/adopt/beyond-oas", test_adopt_beyond_oas);
	host_test_add("/host/image/adopt/truncated", test_adopt_truncated);
	host_test_add("/host/image/adopt/huge-load", test_adopt_huge_load);
	host_test_add("/host/image/adopt/no-note", test_adopt_no_note);
	host_test_add("/host/image/adopt/stray-bytes", test_adopt_stray_bytes);
	host_test_add("/host/image/adopt/register-mismatch",
		      test_adopt_register);
	host_test_add("/host/image/adopt/busy", test_adopt_busy);
	host_test_add("/host/image/adopt/no-adopt-op", test_adopt_no_op);
	return g_test_run();
}
