// SPDX-License-Identifier: MIT
/*
 * memfile-peek FILE BASE PA: the second process of the --mem-file tests.
 * Maps FILE read-only and shared, as a device model or debugger would map
 * the memory a run of `iopgt-host --mem-file FILE@BASE` keeps its tables
 * in, and prints the 8-byte little-endian value at physical address PA
 * (file offset PA - BASE) as 0x%016x.  Exit 1 with a line on stderr if PA
 * is not inside the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int number(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return !*s || *end || errno ? -1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t base, pa, off, v = 0;
	struct stat st;
	unsigned char *m;
	int fd;

	if (argc != 4 || number(argv[2], &base) || number(argv[3], &pa)) {
		fprintf(stderr, "usage: memfile-peek FILE BASE PA\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "memfile-peek: %s: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	off = pa - base;
	if (pa < base || off > (uint64_t)st.st_size ||
	    (uint64_t)st.st_size - off < sizeof(v)) {
		fprintf(stderr, "memfile-peek: PA 0x%" PRIx64 " is not in "
			"the file\n", pa);
		return 1;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "memfile-peek: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* descriptors are little-endian, whatever this machine is */
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | m[off + (uint64_t)i];
	printf("0x%016" PRIx64 "\n", v);
	munmap(m, (size_t)st.st_size);
	close(fd);
	return 0;
}
