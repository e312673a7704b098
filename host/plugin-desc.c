// SPDX-License-Identifier: MIT
/*
 * Descriptor checks, field by field, before any plugin function runs
 * (gstplugin.c's CHECK_PLUGIN_DESC_FIELD, and then some).  Pure functions:
 * the in-process load and the probe child both use them.
 */
#include <string.h>

#include "iopgt-internal.h"

/* The smallest descriptor layout this host understands (ABI 1.0). */
#define DESC_MIN_SIZE	offsetof(struct iopgt_plugin_desc, reserved)

/* Printable ASCII only, 1..max bytes: names reach terminals and JSON. */
const char *iopgt_text_problem(const char *s, size_t max)
{
	size_t n = 0;

	if (!s)
		return "is NULL";
	for (; s[n]; n++) {
		if (n >= max)
			return "is too long";
		if (!g_ascii_isprint(s[n]))
			return "has a non-printable byte";
	}
	return n ? NULL : "is empty";
}

#define CHECK_DESC_TEXT(desc, field, max)                                     \
	do {                                                                  \
		const char *why_ = iopgt_text_problem((desc)->field, (max));  \
		if (why_) {                                                   \
			*reason = g_strdup_printf("descriptor field '" #field \
						  "' %s", why_);              \
			return -EPROTO;                                       \
		}                                                             \
	} while (0)

static int check_version(const struct iopgt_plugin_desc *desc, char **reason)
{
	if (desc->magic != IOPGT_PLUGIN_MAGIC) {
		*reason = g_strdup_printf("descriptor field 'magic' is 0x%08x, "
					  "expected 0x%08x", desc->magic,
					  IOPGT_PLUGIN_MAGIC);
		return -EPROTO;
	}
	if (desc->abi_major != IOPGT_ABI_MAJOR) {
		*reason = g_strdup_printf("descriptor field 'abi_major' is %u, "
					  "host speaks ABI %d.%d",
					  desc->abi_major, IOPGT_ABI_MAJOR,
					  IOPGT_ABI_MINOR);
		return -EPROTO;
	}
	if (desc->abi_minor > IOPGT_ABI_MINOR) {
		*reason = g_strdup_printf("descriptor field 'abi_minor' is %u, "
					  "newer than host ABI %d.%d",
					  desc->abi_minor, IOPGT_ABI_MAJOR,
					  IOPGT_ABI_MINOR);
		return -EPROTO;
	}
	if (desc->struct_size < DESC_MIN_SIZE) {
		*reason = g_strdup_printf("descriptor field 'struct_size' is %u, "
					  "smaller than %zu", desc->struct_size,
					  DESC_MIN_SIZE);
		return -EPROTO;
	}
	return 0;
}

int iopgt_desc_check(const struct iopgt_plugin_desc *desc, const char *expect,
		     char **reason)
{
	int ret = check_version(desc, reason);

	if (ret)
		return ret;
	CHECK_DESC_TEXT(desc, name, IOPGT_NAME_MAX);
	if (!iopgt_name_is_valid(desc->name)) {
		*reason = g_strdup_printf("descriptor field 'name' '%s' is not "
					  "a valid plugin name", desc->name);
		return -EPROTO;
	}
	if (expect) {
		g_autofree char *canon = iopgt_name_canonical(desc->name);

		if (strcmp(canon, expect)) {
			*reason = g_strdup_printf("descriptor field 'name' is "
						  "'%s' but the file is named "
						  "'%s.so'", desc->name, expect);
			return -EPROTO;
		}
	}
	CHECK_DESC_TEXT(desc, version, 64);
	CHECK_DESC_TEXT(desc, description, 256);
	CHECK_DESC_TEXT(desc, license, 64);
	if (!desc->register_fn) {
		*reason = g_strdup("descriptor field 'register_fn' is NULL");
		return -EPROTO;
	}
	return 0;
}

/* Data where code should be would be executed. */
int iopgt_desc_check_code(void *handle, const struct iopgt_plugin_desc *desc,
			  char **why)
{
	if (iopgt_loader_check_code(handle, (const void *)desc->register_fn)) {
		*why = g_strdup("descriptor field 'register_fn' does not point "
				"to code in the plugin");
		return -EPROTO;
	}
	if (desc->unregister_fn &&
	    iopgt_loader_check_code(handle,
				    (const void *)desc->unregister_fn)) {
		*why = g_strdup("descriptor field 'unregister_fn' does not "
				"point to code in the plugin");
		return -EPROTO;
	}
	return 0;
}
