// SPDX-License-Identifier: MIT
/*
 * Plugin and manifest names.  A name is never a path: the host joins it to
 * a plugin directory itself, so '/', '..' and a leading '.' are refused.
 */
#include <string.h>

#include "iopgt-internal.h"

bool iopgt_name_is_valid(const char *name)
{
	size_t len;

	if (!name || !*name || name[0] == '.')
		return false;
	len = strlen(name);
	if (len > IOPGT_NAME_MAX || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return false;
	return true;
}

bool iopgt_format_name_is_valid(const char *name)
{
	size_t len = name ? strnlen(name, IOPGT_NAME_MAX + 1) : 0;

	if (!len || len > IOPGT_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

char *iopgt_name_canonical(const char *name)
{
	char *c = g_strdup(name);

	for (char *p = c; *p; p++)
		if (*p == '_')
			*p = '-';
	return c;
}
