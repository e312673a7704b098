// SPDX-License-Identifier: MIT
/*
 * A fixture plugin with the oddities a third-party format may have, for
 * the CLI tests (tests/cli/test-cli.c):
 *   cli-satp   describe_regs reports "satp" with the top bit set
 *   cli-regs   the same and also "satp.mode" (a name that is both a
 *              value and a group)
 *   cli-leaky  free leaves its table allocated (the host reports a leak)
 * Built twice: as cli-odd.so, and as rv39.so whose metadata and
 * descriptor say "riscv-sv39" (CLI_ODD_NAME), a file named unlike its
 * plugin.  Both are the fake one-level format of tests/fixtures.
 */
#include "fake-format.h"

#ifndef CLI_ODD_NAME
#define CLI_ODD_NAME "cli-odd"
#endif

static void (*fake_describe)(struct iopgt_ops *ops, iopgt_reg_fn fn,
			     void *data);

static void satp_describe(struct iopgt_ops *ops, iopgt_reg_fn fn, void *data)
{
	fake_describe(ops, fn, data);
	fn(data, "satp", 0x8000000000001234ULL);
}

static void regs_describe(struct iopgt_ops *ops, iopgt_reg_fn fn, void *data)
{
	satp_describe(ops, fn, data);
	fn(data, "satp.mode", 8);
}

static int alloc_with(struct iopgt_cfg *cfg, void *cookie,
		      const struct iopgt_env *env, struct iopgt_pgtable **out,
		      void (*describe)(struct iopgt_ops *, iopgt_reg_fn,
				       void *))
{
	int ret = fake_format_alloc(cfg, cookie, env, out);

	if (ret)
		return ret;
	fake_describe = (*out)->ops.describe_regs;
	(*out)->ops.describe_regs = describe;
	return 0;
}

static int satp_alloc(struct iopgt_cfg *cfg, void *cookie,
		      const struct iopgt_env *env, struct iopgt_pgtable **out)
{
	return alloc_with(cfg, cookie, env, out, satp_describe);
}

static int regs_alloc(struct iopgt_cfg *cfg, void *cookie,
		      const struct iopgt_env *env, struct iopgt_pgtable **out)
{
	return alloc_with(cfg, cookie, env, out, regs_describe);
}

static const struct iopgt_format satp_fmt = {
	.name = "cli-satp",
	.description = "fixture: satp with the top bit set",
	.alloc = satp_alloc,
	.free = fake_format_free,
	.default_ias = FAKE_IAS,
	.default_oas = FAKE_OAS_MAX,
	.default_pgsize_bitmap = FAKE_PAGE_SIZE,
};

/* Frees the state but not the table: 4 KiB the host finds leaked. */
static void leaky_free(struct iopgt_pgtable *iop)
{
	struct fake_pgtable *d = container_of(iop, struct fake_pgtable, iop);
	struct iopgt_env env = d->env;

	env.svc->free(env.mem, d);
}

static const struct iopgt_format regs_fmt = {
	.name = "cli-regs",
	.description = "fixture: both satp and satp.mode",
	.alloc = regs_alloc,
	.free = fake_format_free,
	.default_ias = FAKE_IAS,
	.default_oas = FAKE_OAS_MAX,
	.default_pgsize_bitmap = FAKE_PAGE_SIZE,
};

static const struct iopgt_format leaky_fmt = {
	.name = "cli-leaky",
	.description = "fixture: free leaks the table",
	.alloc = fake_format_alloc,
	.free = leaky_free,
	.default_ias = FAKE_IAS,
	.default_oas = FAKE_OAS_MAX,
	.default_pgsize_bitmap = FAKE_PAGE_SIZE,
};

static int odd_register(struct iopgt_registrar *reg)
{
	static const struct iopgt_format *const fmts[] = {
		&satp_fmt, &regs_fmt, &leaky_fmt, NULL,
	};

	return fake_register_all(reg, fmts);
}

IOPGT_PLUGIN_PROVIDES("cli-satp");
IOPGT_PLUGIN_PROVIDES("cli-regs");
IOPGT_PLUGIN_PROVIDES("cli-leaky");
IOPGT_PLUGIN_DEFINE(CLI_ODD_NAME, "2.5", "Fixture: odd third-party formats",
		    "MIT", odd_register, NULL);
