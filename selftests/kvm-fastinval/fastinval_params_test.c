// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_params_test: the module parameters fastinval_batch_pages,
 * fastinval_hold_budget_us and fastinval_mode.
 *
 *  - bad values (0, -1, over the range, huge, non-numeric, empty; for
 *    fastinval_mode anything but bounded or stock, including the old
 *    boolean Y) are refused with EINVAL, the old value stays
 *    and the kernel log says "invalid value";
 *  - good values read back, and take effect on the next invalidation (a
 *    memslot delete after the guest touched 2 MiB), seen in the trace:
 *      fastinval_mode=stock -> the start event has stock=1, bounded ->
 *        stock=0;
 *      budget 1 us, batch 1 -> the zap (shadow) or the TDP walk releases
 *        mmu_lock for the budget (release=budget batches);
 *      budget 1 us, batch 4 -> no zap batch released for the budget holds
 *        fewer than 4 pages;
 *      budget 1 s, batch 65536 -> no release for the budget.
 *    In TDP mode there are no shadow pages to zap and the TDP walk needs no
 *    minimum batch: the batch-4 check is skipped there.
 * Parameters are restored at exit.
 */
#define _GNU_SOURCE
#include "fastinval_util.h"

#define DATA_SLOT	10
#define DATA_GPA	0x40000000UL
#define DATA_PAGES	512

static void guest_code(void)
{
	fi_guest_write_rounds(DATA_GPA, DATA_PAGES, 0);
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;

/* Touch the data, set the parameters, delete + re-add: one invalidation. */
static struct fi_inval invalidate(const char *batch, const char *budget, const char *stock)
{
	struct fi_trace t;
	struct fi_inval in;
	struct ucall uc;
	char name[64];

	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC, "unexpected exit %s",
		    exit_reason_str(vcpu->run->exit_reason));
	fi_param_must_set("fastinval_batch_pages", batch);
	fi_param_must_set("fastinval_hold_budget_us", budget);
	fi_param_must_set("fastinval_mode", stock);
	fi_write_file(FI_TRACEFS "/trace", "");
	vm_mem_region_delete(vm, DATA_SLOT);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT, DATA_PAGES, 0);
	fi_vm_dir(vm, name, sizeof(name));
	fi_trace_read(&t, name);
	TEST_ASSERT(t.n == 1, "%d invalidations of VM %s traced for one delete", t.n, name);
	in = t.inv[0];
	fi_trace_free(&t);
	TEST_ASSERT(fi_check_inval(&in) == 0, "the invalidation's events do not add up");
	ksft_print_msg("batch=%s budget=%s stock=%s: id %lu stock=%d zapped %lu freed %lu tdp %lu, %lu batches, releases c/r/b/d %lu/%lu/%lu/%lu, longest %lu ns, fewest pages in a budget-released zap batch %ld\n",
		       batch, budget, stock, in.id, in.stock, in.e_zapped, in.e_freed, in.e_tdp,
		       in.e_batches, in.rel[0], in.rel[1], in.rel[2], in.rel[3], in.e_longest,
		       (long)in.min_budget_pages[KVM_FASTINVAL_PHASE_ZAP]);
	return in;
}

int main(void)
{
	static const struct { const char *name, *val; } bad[] = {
		{ "fastinval_batch_pages", "0" }, { "fastinval_batch_pages", "-1" },
		{ "fastinval_batch_pages", "65537" }, { "fastinval_batch_pages", "99999999999999999999" },
		{ "fastinval_batch_pages", "abc" }, { "fastinval_batch_pages", "\n" },
		{ "fastinval_hold_budget_us", "0" }, { "fastinval_hold_budget_us", "-1" },
		{ "fastinval_hold_budget_us", "1000001" }, { "fastinval_hold_budget_us", "4294967296" },
		{ "fastinval_hold_budget_us", "abc" }, { "fastinval_hold_budget_us", "12abc" },
		{ "fastinval_mode", "abc" }, { "fastinval_mode", "Y" }, { "fastinval_mode", "1" },
		{ "fastinval_mode", "stockx" }, { "fastinval_mode", "\n" },
	};
	int nbad = sizeof(bad) / sizeof(bad[0]), i, r, kmsg, refused = 0, kept = 0, logged;
	bool shadow;
	struct fi_inval in;
	char v[32], before[32];

	ksft_print_header();
	fi_require_module();
	ksft_set_plan(9);
	kmsg = fi_kmsg_mark();
	shadow = fi_shadow_mode();
	ksft_print_msg("%s\n", fi_mode_name());
	fi_params_save();
	ksft_print_msg("current: fastinval_batch_pages=%s fastinval_hold_budget_us=%s fastinval_mode=%s\n",
		       fi_saved_params[0], fi_saved_params[1], fi_saved_params[2]);

	/* Non-default known values, so a reset to defaults would show. */
	fi_param_must_set("fastinval_batch_pages", "7");
	fi_param_must_set("fastinval_hold_budget_us", "321");
	fi_param_must_set("fastinval_mode", "stock");
	fi_kmsg_check(kmsg, NULL, NULL);
	for (i = 0; i < nbad; i++) {
		fi_param_get(bad[i].name, before, sizeof(before));
		r = fi_param_set(bad[i].name, bad[i].val);
		fi_param_get(bad[i].name, v, sizeof(v));
		refused += r == -EINVAL;
		kept += !strcmp(v, before);
		ksft_print_msg("%s='%s': %s, value %s -> %s\n", bad[i].name, bad[i].val,
			       r ? strerror(-r) : "accepted", before, v);
	}
	fi_kmsg_check(kmsg, "invalid value", &logged);
	ksft_test_result(refused == nbad, "%d of %d bad values refused with EINVAL\n", refused, nbad);
	ksft_test_result(kept == nbad, "the old value kept after %d of %d\n", kept, nbad);
	ksft_test_result(logged >= nbad, "%d 'invalid value' kernel log lines for %d refusals\n",
			 logged, refused);

	fi_param_must_set("fastinval_batch_pages", "65536");
	fi_param_get("fastinval_batch_pages", v, sizeof(v));
	r = !strcmp(v, "65536");
	fi_param_must_set("fastinval_hold_budget_us", "1000000");
	fi_param_get("fastinval_hold_budget_us", v, sizeof(v));
	r &= !strcmp(v, "1000000");
	fi_param_must_set("fastinval_mode", "bounded");
	fi_param_get("fastinval_mode", v, sizeof(v));
	r &= !strcmp(v, "bounded");
	ksft_test_result(r, "good values (the range's ends) accepted and read back\n");

	fi_trace_start("8192");
	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	fi_ucall_init(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT, DATA_PAGES, 0);
	virt_map(vm, DATA_GPA, DATA_GPA, DATA_PAGES);

	in = invalidate("10", "500", "stock");
	r = in.stock == 1;
	in = invalidate("10", "500", "bounded");
	ksft_test_result(r && in.stock == 0,
			 "fastinval_mode takes effect on the next invalidation (stock=1, then stock=0)\n");

	in = invalidate("1", "1", "bounded");
	ksft_test_result(in.e_zapped + in.e_tdp < 2 || in.rel[KVM_FASTINVAL_REL_BUDGET] > 0,
			 "budget 1 us, batch 1: %lu budget releases for %lu zapped pages, %lu TDP SPTEs\n",
			 in.rel[KVM_FASTINVAL_REL_BUDGET], in.e_zapped, in.e_tdp);

	in = invalidate("4", "1", "bounded");
	if (shadow)
		ksft_test_result(in.min_budget_pages[KVM_FASTINVAL_PHASE_ZAP] >= 4,
				 "batch 4: no zap batch released for the budget before 4 pages (fewest %ld)\n",
				 (long)in.min_budget_pages[KVM_FASTINVAL_PHASE_ZAP]);
	else
		ksft_test_result_skip("batch 4: no shadow pages in TDP mode\n");

	in = invalidate("65536", "1000000", "bounded");
	ksft_test_result(in.rel[KVM_FASTINVAL_REL_BUDGET] == 0,
			 "budget 1 s: no release for the budget (%lu)\n", in.rel[KVM_FASTINVAL_REL_BUDGET]);

	kvm_vm_free(vm);
	fi_kmsg_result(kmsg);
	ksft_finished();
}
