// SPDX-License-Identifier: MIT
/*
 * Page tables in memory the program owns, as an emulator keeps IOMMU tables
 * in guest RAM: a memfd stands for the guest's RAM, mapped here at "guest
 * physical" 0x8000_0000.  The host builds an arm-64-lpae-s1 table in it;
 * the program then reads the leaf descriptor back through its own mapping
 * at the descriptor's PA, as a device model walking the table would.
 *
 *   embed [PLUGIN_DIR]      (default: the installed plugin directory)
 *
 * Prints the root, the leaf's PA and value; exits 0 when the walk through
 * the caller's memory finds exactly what iova_to_phys says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iopgt/host.h>

#define RAM_PA		0x80000000ULL
#define RAM_SIZE	(1ULL << 20)
#define IOVA		0x40201000UL
#define PA		0x12345000ULL

struct leaf {
	uint64_t pa;		/* where the descriptor lives */
	uint64_t raw;
	int found;
};

/* The walk reports each leaf and the table it sits in. */
static uint64_t table_pa;

static int on_table(void *data, uint64_t pa, const void *va, size_t size,
		    int level)
{
	(void)data;
	(void)va;
	(void)size;
	(void)level;
	table_pa = pa;
	return 0;
}

static int on_entry(void *data, const struct iopgt_walk_entry *e)
{
	struct leaf *l = data;

	if (e->kind == IOPGT_ENTRY_LEAF && e->iova == IOVA) {
		l->pa = table_pa + e->index * sizeof(uint64_t);
		l->raw = e->raw;
		l->found = 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : iopgt_get_default_plugin_dir();
	struct iopgt_cfg cfg = { .coherent_walk = true };
	struct iopgt_walk_ops visit = { .table = on_table, .entry = on_entry };
	struct iopgt_mem_provider *ram = NULL;
	struct iopgt_pgtable *pgt = NULL;
	struct iopgt_host *host;
	struct leaf leaf = { 0 };
	uint64_t seen;
	void *va;
	int fd, ret = 1;

	fd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, RAM_SIZE)) {
		perror("memfd");
		return 1;
	}
	va = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	host = iopgt_host_new();
	if (iopgt_host_add_plugin_dir(host, dir) < 0 ||
	    iopgt_host_scan(host) < 0 ||
	    iopgt_mem_provider_new_region(host, va, RAM_PA, RAM_SIZE, &ram) ||
	    iopgt_pgtable_new_in(host, ram, "arm-64-lpae-s1", &cfg, NULL,
				 &pgt) ||
	    iopgt_pgtable_map(host, pgt, IOVA, PA, 4096,
			      IOMMU_READ | IOMMU_WRITE)) {
		const char *why = iopgt_host_get_last_error(host);

		fprintf(stderr, "embed: %s\n", why ? why : strerror(errno));
		goto out;
	}
	iopgt_pgtable_walk(host, pgt, &visit, &leaf);
	if (!leaf.found || leaf.pa < RAM_PA || leaf.pa >= RAM_PA + RAM_SIZE) {
		fprintf(stderr, "embed: the leaf is not in the caller's RAM\n");
		goto out;
	}
	/* what a device model reads at that guest-physical address */
	memcpy(&seen, (char *)va + (leaf.pa - RAM_PA), sizeof(seen));
	printf("root 0x%" PRIx64 "\n", pgt->root_pa);
	printf("leaf for iova 0x%lx at PA 0x%" PRIx64 ": 0x%016" PRIx64 "\n",
	       IOVA, leaf.pa, seen);
	printf("output address 0x%" PRIx64 "\n",
	       iopgt_pgtable_iova_to_phys(host, pgt, IOVA));
	ret = !(seen == leaf.raw &&
		iopgt_pgtable_iova_to_phys(host, pgt, IOVA) == PA);
out:
	iopgt_pgtable_free(host, pgt);
	iopgt_mem_provider_unref(ram);
	iopgt_host_unref(host);
	munmap(va, RAM_SIZE);
	close(fd);
	return ret;
}
