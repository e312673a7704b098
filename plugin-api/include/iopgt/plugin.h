/* SPDX-License-Identifier: MIT */
/*
 * The plugin descriptor: the one symbol a plugin exports.
 *
 * The host resolves `iopgt_plugin_desc` (a const data object), checks magic,
 * struct size, ABI major/minor and every text field before it calls any
 * plugin function, then calls register_fn with a registrar through which the
 * plugin registers its formats by name.  Everything the plugin needs from
 * the host arrives through that registrar, so a plugin links against
 * nothing from the host.
 *
 * ABI rule (gst_plugin_check_version): abi_major == IOPGT_ABI_MAJOR and
 * abi_minor <= IOPGT_ABI_MINOR.
 */
#ifndef IOPGT_PLUGIN_H
#define IOPGT_PLUGIN_H

#include <stdint.h>

#include <iopgt/bits.h>
#include <iopgt/host-services.h>
#include <iopgt/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IOPGT_ABI_MAJOR		1
/* 1.1: iopgt_walk_entry.prot (pgtable.h)
 * 1.2: alloc_pages' address limit IOPGT_MEM_MAX_BITS (host-services.h)
 * 1.3: iopgt_format.adopt, struct iopgt_image_src (pgtable.h)
 * 1.4: iopgt_format.foreign, struct iopgt_foreign_ops (pgtable.h)
 * 1.5: iopgt_format_info.flags (IOPGT_FORMAT_INFO_FOREIGN) */
#define IOPGT_ABI_MINOR		5
#define IOPGT_PLUGIN_MAGIC	0x696f7067u	/* "iopg" */
#define IOPGT_PLUGIN_SYMBOL	"iopgt_plugin_desc"
#define IOPGT_NAME_MAX		64		/* plugin and format names */

/*
 * Handed to register_fn.  register_format() copies nothing: the format
 * struct must live as long as the plugin is loaded (static const).
 * It returns 0, -EEXIST when another plugin (or this one) already
 * registered the name or alias, or -EINVAL for a malformed format.
 */
struct iopgt_registrar {
	const struct iopgt_host_services *svc;
	void *log_ctx;
	int (*register_format)(struct iopgt_registrar *reg,
			       const struct iopgt_format *fmt);
	void *host_priv;
	void *reserved[4];
};

struct iopgt_plugin_desc {
	uint32_t magic;			/* IOPGT_PLUGIN_MAGIC */
	uint32_t struct_size;		/* sizeof(struct iopgt_plugin_desc) */
	uint16_t abi_major;
	uint16_t abi_minor;
	uint32_t reserved0;
	const char *name;		/* must equal the file name without .so */
	const char *version;
	const char *description;
	const char *license;
	/* Register formats.  Returns: 0 on success or a negative errno;
	 * on failure the host drops whatever it registered. */
	int (*register_fn)(struct iopgt_registrar *reg);
	/* Optional: called before dlclose, never after a failed register. */
	void (*unregister_fn)(void);
	void *reserved[8];
};

#if defined(IOPGT_BUILTIN)
#define IOPGT_PLUGIN_EXPORT
#else
#define IOPGT_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/*
 * Metadata the host reads from the file without running any of it, as
 * modinfo reads a kernel module's .modinfo: NUL-terminated "key=value"
 * strings in the ELF section IOPGT_PLUGIN_INFO_SECTION.  Keys:
 *   name, version, description, license, abi   (IOPGT_PLUGIN_DEFINE)
 *   provides   a format name or alias the plugin registers (repeatable)
 *   softdep    "pre: A B post: C", as a manifest softdep line for this
 *              plugin (repeatable)
 * Values must be string literals.  Built-in (IOPGT_BUILTIN) builds emit
 * nothing: the program has no plugin file to read.
 */
#define IOPGT_PLUGIN_INFO_SECTION	".iopgt_info"

#define IOPGT_PLUGIN_STR_(x)		#x
#define IOPGT_PLUGIN_STR(x)		IOPGT_PLUGIN_STR_(x)
#define IOPGT_PLUGIN_CAT_(a, b)		a##b
#define IOPGT_PLUGIN_CAT(a, b)		IOPGT_PLUGIN_CAT_(a, b)

#if defined(IOPGT_BUILTIN)
#define IOPGT_PLUGIN_INFO(key_, value_) \
	_Static_assert(sizeof(value_) > 0, "plugin info value")
#else
#define IOPGT_PLUGIN_INFO(key_, value_)                                      \
	static const char IOPGT_PLUGIN_CAT(iopgt_plugin_info_, __COUNTER__)[] \
	__attribute__((section(IOPGT_PLUGIN_INFO_SECTION), used,             \
		       aligned(1))) = #key_ "=" value_
#endif

/* IOPGT_PLUGIN_PROVIDES("arm-64-lpae-s1"): on-demand loading finds the
 * plugin of a format by this, before the plugin is loaded. */
#define IOPGT_PLUGIN_PROVIDES(format_)	IOPGT_PLUGIN_INFO(provides, format_)
/* IOPGT_PLUGIN_SOFTDEP("pre: io-pgtable-arm"), like MODULE_SOFTDEP. */
#define IOPGT_PLUGIN_SOFTDEP(deps_)	IOPGT_PLUGIN_INFO(softdep, deps_)

/*
 * IOPGT_FORMAT_DEFINE(var, "name", "ALIAS", .description = ..., .alloc = ...,
 *                     .free = ..., ...)
 * defines `static const struct iopgt_format var` with that name and alias
 * and emits both as IOPGT_PLUGIN_PROVIDES metadata, so that each is written
 * once: the host finds the plugin of a format before loading it by exactly
 * the names the plugin then registers.  Name and alias must be string
 * literals; the other members follow as designated initialisers.
 * IOPGT_FORMAT_DEFINE_NO_ALIAS(var, "name", ...) is the same without one.
 * Register &var from register_fn as before.  Prefer
 * IOPGT_FORMAT_DEFINE_DEFAULTS (below), which also makes the defaults
 * readable from the file.
 */
#define IOPGT_FORMAT_DEFINE(var_, name_, alias_, ...)                         \
	IOPGT_PLUGIN_PROVIDES(name_);                                        \
	IOPGT_PLUGIN_PROVIDES(alias_);                                       \
	static const struct iopgt_format var_ = {                            \
		.name = name_,                                               \
		.alias = alias_,                                             \
		__VA_ARGS__                                                  \
	}
#define IOPGT_FORMAT_DEFINE_NO_ALIAS(var_, name_, ...)                       \
	IOPGT_PLUGIN_PROVIDES(name_);                                        \
	static const struct iopgt_format var_ = {                            \
		.name = name_,                                               \
		__VA_ARGS__                                                  \
	}

/*
 * A format's defaults as file metadata: one fixed-size record per format
 * in the ELF section IOPGT_FORMAT_INFO_SECTION, so that a host can show
 * them (and fill a cfg from them) without mapping the plugin.  Plain data
 * with no pointers: it needs no relocation and the host reads it with
 * pread.  Written by IOPGT_FORMAT_DEFINE_DEFAULTS, never by hand.
 * flags (ABI 1.5) says what the format can do beyond alloc: a host that
 * has not loaded the plugin can tell which formats walk foreign tables;
 * a record of an older plugin holds 0 there (it was reserved).
 */
#define IOPGT_FORMAT_INFO_SECTION	".iopgt_fmt"
#define IOPGT_FORMAT_INFO_MAGIC		0x69666d74u	/* "ifmt" */

struct iopgt_format_info {
	uint32_t magic;			/* IOPGT_FORMAT_INFO_MAGIC */
	uint32_t struct_size;		/* sizeof(struct iopgt_format_info) */
	uint32_t default_ias;
	uint32_t default_oas;
	uint64_t default_pgsize_bitmap;
	char name[IOPGT_NAME_MAX + 1];	/* NUL-terminated */
	char alias[IOPGT_NAME_MAX + 1];	/* "" when there is none */
	uint8_t flags;			/* IOPGT_FORMAT_INFO_* (ABI 1.5) */
	uint8_t reserved[5];		/* zero; pads to a multiple of 8 */
};
/* flags: the format sets iopgt_format.foreign */
#define IOPGT_FORMAT_INFO_FOREIGN	(1U << 0)
/* the same layout (and stride in the section) on every ABI */
#ifdef __cplusplus
static_assert(sizeof(struct iopgt_format_info) == 160,
	      "struct iopgt_format_info layout");
#else
_Static_assert(sizeof(struct iopgt_format_info) == 160,
	       "struct iopgt_format_info layout");
#endif

/*
 * A sanitizer that pads each global with a redzone would space the records
 * out; the reader wants them back to back.  (GCC does not instrument
 * globals placed in a named section; clang does unless told.)
 */
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IOPGT_FORMAT_INFO_NO_REDZONE	__attribute__((no_sanitize("address")))
#endif
#endif
#ifndef IOPGT_FORMAT_INFO_NO_REDZONE
#define IOPGT_FORMAT_INFO_NO_REDZONE
#endif

#if defined(IOPGT_BUILTIN)
#define IOPGT_FORMAT_INFO(name_, alias_, ias_, oas_, pgsizes_, flags_)       \
	_Static_assert(sizeof(name_) <= IOPGT_NAME_MAX + 1 &&                \
		       sizeof(alias_) <= IOPGT_NAME_MAX + 1, "format name")
#else
#define IOPGT_FORMAT_INFO(name_, alias_, ias_, oas_, pgsizes_, flags_)       \
	_Static_assert(sizeof(name_) <= IOPGT_NAME_MAX + 1 &&                \
		       sizeof(alias_) <= IOPGT_NAME_MAX + 1, "format name"); \
	static const struct iopgt_format_info                                \
	IOPGT_PLUGIN_CAT(iopgt_format_info_, __COUNTER__)                    \
	IOPGT_FORMAT_INFO_NO_REDZONE                                         \
	__attribute__((section(IOPGT_FORMAT_INFO_SECTION), used,            \
		       aligned(8))) = {                                      \
		.magic = IOPGT_FORMAT_INFO_MAGIC,                            \
		.struct_size = sizeof(struct iopgt_format_info),             \
		.default_ias = (ias_),                                       \
		.default_oas = (oas_),                                       \
		.default_pgsize_bitmap = (pgsizes_),                         \
		.name = name_,                                               \
		.alias = alias_,                                             \
		.flags = (flags_),                                           \
	}
#endif

/*
 * IOPGT_FORMAT_DEFINE_DEFAULTS(var, "name", "ALIAS", ias, oas, pgsizes,
 *                              .description = ..., .alloc = ..., ...)
 * is IOPGT_FORMAT_DEFINE with the three defaults (default_ias,
 * default_oas, default_pgsize_bitmap) as parameters: they go into the
 * struct and into an IOPGT_FORMAT_INFO_SECTION record, written once.  They
 * must be integer constant expressions; do not repeat them among the
 * designated initialisers (-Woverride-init says so).
 * IOPGT_FORMAT_DEFINE_DEFAULTS_NO_ALIAS(var, "name", ias, oas, pgsizes,
 * ...) is the same without an alias.
 *
 * IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(var, "name", "ALIAS", ias, oas,
 *                                      pgsizes, &foreign_ops, ...)
 * is IOPGT_FORMAT_DEFINE_DEFAULTS for a format with a foreign walk: it
 * sets .foreign to the ops and IOPGT_FORMAT_INFO_FOREIGN in the record,
 * so the ops are named once and the metadata cannot say otherwise (the
 * host warns when a record and its registered format disagree).  Do not
 * repeat .foreign among the initialisers.
 */
#define IOPGT_FORMAT_DEFINE_DEFAULTS_FLAGS_(var_, name_, alias_, ias_, oas_, \
					    pgsizes_, flags_, ...)           \
	IOPGT_FORMAT_INFO(name_, alias_, ias_, oas_, pgsizes_, flags_);      \
	IOPGT_FORMAT_DEFINE(var_, name_, alias_,                             \
			    .default_ias = (ias_),                           \
			    .default_oas = (oas_),                           \
			    .default_pgsize_bitmap = (pgsizes_),             \
			    __VA_ARGS__)
#define IOPGT_FORMAT_DEFINE_DEFAULTS(var_, name_, alias_, ias_, oas_,       \
				     pgsizes_, ...)                          \
	IOPGT_FORMAT_DEFINE_DEFAULTS_FLAGS_(var_, name_, alias_, ias_, oas_, \
					    pgsizes_, 0, __VA_ARGS__)
#define IOPGT_FORMAT_DEFINE_DEFAULTS_FOREIGN(var_, name_, alias_, ias_,     \
					     oas_, pgsizes_, foreign_, ...)  \
	IOPGT_FORMAT_DEFINE_DEFAULTS_FLAGS_(var_, name_, alias_, ias_, oas_, \
					    pgsizes_,                        \
					    IOPGT_FORMAT_INFO_FOREIGN,       \
					    .foreign = (foreign_),           \
					    __VA_ARGS__)
#define IOPGT_FORMAT_DEFINE_DEFAULTS_NO_ALIAS(var_, name_, ias_, oas_,      \
					      pgsizes_, ...)                 \
	IOPGT_FORMAT_INFO(name_, "", ias_, oas_, pgsizes_, 0);               \
	IOPGT_FORMAT_DEFINE_NO_ALIAS(var_, name_,                            \
				     .default_ias = (ias_),                  \
				     .default_oas = (oas_),                  \
				     .default_pgsize_bitmap = (pgsizes_),    \
				     __VA_ARGS__)

/*
 * IOPGT_PLUGIN_DEFINE(name, version, description, license, register_fn,
 *                     unregister_fn)
 * emits the metadata strings and the exported descriptor, e.g.
 *   IOPGT_PLUGIN_DEFINE("io-pgtable-arm", "1.0", "ARM LPAE", "MIT",
 *                       lpae_register, NULL);
 * The four texts must be string literals.
 */
#define IOPGT_PLUGIN_DEFINE(name_, version_, desc_, license_, reg_, unreg_) \
	IOPGT_PLUGIN_INFO(name, name_);                                      \
	IOPGT_PLUGIN_INFO(version, version_);                                \
	IOPGT_PLUGIN_INFO(description, desc_);                               \
	IOPGT_PLUGIN_INFO(license, license_);                                \
	IOPGT_PLUGIN_INFO(abi, IOPGT_PLUGIN_STR(IOPGT_ABI_MAJOR) "."         \
			  IOPGT_PLUGIN_STR(IOPGT_ABI_MINOR));                \
	IOPGT_PLUGIN_EXPORT const struct iopgt_plugin_desc iopgt_plugin_desc = { \
		.magic = IOPGT_PLUGIN_MAGIC,                                 \
		.struct_size = sizeof(struct iopgt_plugin_desc),             \
		.abi_major = IOPGT_ABI_MAJOR,                                \
		.abi_minor = IOPGT_ABI_MINOR,                                \
		.name = (name_),                                             \
		.version = (version_),                                       \
		.description = (desc_),                                      \
		.license = (license_),                                       \
		.register_fn = (reg_),                                       \
		.unregister_fn = (unreg_),                                   \
	}

#ifdef __cplusplus
}
#endif

#endif /* IOPGT_PLUGIN_H */
