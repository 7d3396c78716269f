// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_events_test: the kvm_fastinval trace events and the per-VM
 * debugfs counters agree with each other and with what the test did.
 *
 * With fastinval_batch_pages=1 and a small fastinval_hold_budget_us, a guest
 * touches a slot that is deleted (and re-added) N times and reads a slot that is
 * moved M times, alternately; after each move it checks the moved slot's
 * data at its new GPA.  Then the trace (/sys/kernel/tracing/trace) and
 * /sys/kernel/debug/kvm/<pid>-<fd>/fastinval are checked:
 *   - with the events filtered on this process's vm_pid (as trace-cmd -f
 *     would), N + M start and end events for this VM's name, with the
 *     reasons of the operations in order, every batch and end event with
 *     the start's vm_pid;
 *   - per invalidation: batch pages by phase == end totals, batch count,
 *     releases by reason == end counts, max lock_ns == longest_hold_ns;
 *   - debugfs deltas == the sums over the end events;
 *   - no batch's lock_ns over the budget plus a margin, after the README's
 *     "Bound on a hold, for tests": +20 ms in an invalidation's first hold
 *     (generation bump, root invalidation, reload requests to all vCPUs),
 *     +10 ms in the others.  The README says +5 ms for those under TCG; a
 *     later hold of 5.3 ms (budget 200 us) was measured on 6.12 TDP: with
 *     one TCG thread for all of the outer guest's vCPUs, local_clock() also
 *     runs while another vCPU has the TCG thread, so a hold's wall time
 *     includes foreign time slices.  -m MS sets one margin for both (e.g.
 *     -m 1 on hardware);
 *   - fastinval_mode=stock (the distro's own behaviour) gives stock=1 events that
 *     add up the same way.
 *
 *   fastinval_events_test [-n DELETES] [-M MOVES] [-b BUDGET_US] [-m MARGIN_MS]
 */
#define _GNU_SOURCE
#include "fastinval_util.h"

#define DEL_SLOT	10
#define MOVE_SLOT	11
#define DEL_GPA		0x40000000UL
#define MOVE_GPA_A	0x50000000UL
#define MOVE_GPA_B	0x60000000UL
#define DEL_PAGES	128
#define MOVE_PAGES	64
#define PG		4096UL
#define PAT(p)		(0x4d00000000000000UL | (p))

enum { SYNC_OK = 1, BAD_DATA };

static uint64_t move_gpa;

static void guest_code(void)
{
	uint64_t p, v, round;

	for (round = 0;; round++) {
		for (p = 0; p < DEL_PAGES; p++)
			((volatile uint64_t *)(DEL_GPA + p * PG))[p % 512] = round;
		for (p = 0; p < MOVE_PAGES; p++) {
			v = ((volatile uint64_t *)(*(volatile uint64_t *)&move_gpa + p * PG))[7];
			if (v != PAT(p))
				GUEST_SYNC_ARGS(BAD_DATA, move_gpa, p, v, PAT(p));
		}
		GUEST_SYNC_ARGS(SYNC_OK, move_gpa, round, 0, 0);
	}
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpu;

/* Run the guest through one round; returns the GPA it checked. */
static uint64_t run_round(void)
{
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			TEST_ASSERT(uc.args[1] == SYNC_OK,
				    "after the move to 0x%lx, page %lu reads 0x%lx, want 0x%lx",
				    uc.args[2], uc.args[3], uc.args[4], uc.args[5]);
			return uc.args[2];
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		default:
			TEST_FAIL("unexpected exit %s", exit_reason_str(vcpu->run->exit_reason));
		}
	}
}

#define DELTA(name) (fi_counter(&c1, name) - fi_counter(&c0, name))
#define DELTA_OF(prefix, name) \
	(fi_counter_of(&c1, prefix, name) - fi_counter_of(&c0, prefix, name))

int main(int argc, char *argv[])
{
	int ndel = 4, nmove = 4, budget_us = 200, margin_ms = -1, opt, i, kmsg;
	int bad = 0, nd = 0, nm = 0, order_ok = 1, over = 0, expect_n, sums_ok;
	uint64_t gpa = MOVE_GPA_A, s_zap = 0, s_free = 0, s_tdp = 0, s_batch = 0;
	uint64_t s_ph[KVM_FASTINVAL_NR_PHASES] = {}, s_rel[KVM_FASTINVAL_NR_RELEASES] = {}, longest = 0;
	uint64_t max_first = 0, max_later = 0, first_limit, later_limit, *m, p;
	struct fi_counters c0, c1;
	struct fi_trace t;
	char name[64], budget[16];
	const char *expect[64];

	while ((opt = getopt(argc, argv, "n:M:b:m:h")) != -1) {
		switch (opt) {
		case 'n': ndel = atoi(optarg); break;
		case 'M': nmove = atoi(optarg); break;
		case 'b': budget_us = atoi(optarg); break;
		case 'm': margin_ms = atoi(optarg); break;
		default:
			printf("usage: %s [-n DELETES] [-M MOVES] [-b BUDGET_US] [-m MARGIN_MS]\n", argv[0]);
			return KSFT_FAIL;
		}
	}
	if (ndel < 1 || nmove < 1 || ndel + nmove > 64 || budget_us < 1)
		ksft_exit_fail_msg("bad arguments\n");
	first_limit = budget_us * 1000UL + (margin_ms >= 0 ? margin_ms : 20) * 1000000UL;
	later_limit = budget_us * 1000UL + (margin_ms >= 0 ? margin_ms : 10) * 1000000UL;

	ksft_print_header();
	fi_require_module();
	ksft_set_plan(11);
	kmsg = fi_kmsg_mark();
	fi_params_save();
	snprintf(budget, sizeof(budget), "%d", budget_us);
	fi_param_must_set("fastinval_batch_pages", "1");
	fi_param_must_set("fastinval_hold_budget_us", budget);
	fi_param_must_set("fastinval_mode", "bounded");
	ksft_print_msg("%s; fastinval_batch_pages=1 fastinval_hold_budget_us=%d; %d deletes, %d moves\n",
		       fi_mode_name(), budget_us, ndel, nmove);
	fi_trace_start("8192");
	/* Only this process's VMs: batch and end events must pass it too. */
	fi_trace_filter_vm_pid(getpid());

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	fi_ucall_init(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DEL_GPA, DEL_SLOT, DEL_PAGES, 0);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa, MOVE_SLOT, MOVE_PAGES, 0);
	virt_map(vm, DEL_GPA, DEL_GPA, DEL_PAGES);
	virt_map(vm, MOVE_GPA_A, MOVE_GPA_A, MOVE_PAGES);
	virt_map(vm, MOVE_GPA_B, MOVE_GPA_B, MOVE_PAGES);
	m = addr_gpa2hva(vm, gpa);
	for (p = 0; p < MOVE_PAGES; p++)
		m[p * 512 + 7] = PAT(p);
	move_gpa = gpa;
	sync_global_to_guest(vm, move_gpa);
	fi_vm_dir(vm, name, sizeof(name));
	TEST_ASSERT(!fi_counters_read(vm, &c0), "no %s/kvm/%s/fastinval", FI_DEBUGFS, name);
	TEST_ASSERT(fi_counter(&c0, "invalidations") == 0,
		    "a new VM has %lu invalidations", fi_counter(&c0, "invalidations"));

	/* The sequence: delete, move, delete, move, ... */
	for (i = 0; nd < ndel || nm < nmove; i++) {
		TEST_ASSERT(run_round() == gpa, "the guest read the wrong GPA");
		if ((i % 2 == 0 && nd < ndel) || nm == nmove) {
			vm_mem_region_delete(vm, DEL_SLOT);
			vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DEL_GPA,
						    DEL_SLOT, DEL_PAGES, 0);
			expect[nd + nm] = fi_reason_names[KVM_FASTINVAL_MEMSLOT_DELETE];
			nd++;
		} else {
			gpa = gpa == MOVE_GPA_A ? MOVE_GPA_B : MOVE_GPA_A;
			vm_mem_region_move(vm, MOVE_SLOT, gpa);
			move_gpa = gpa;
			sync_global_to_guest(vm, move_gpa);
			expect[nd + nm] = fi_reason_names[KVM_FASTINVAL_MEMSLOT_MOVE];
			nm++;
		}
	}
	TEST_ASSERT(run_round() == gpa, "the guest read the wrong GPA");
	ksft_test_result_pass("the guest read the moved slot's data at its new GPA after each of %d moves\n",
			      nmove);
	TEST_ASSERT(!fi_counters_read(vm, &c1), "no debugfs counters");

	fi_trace_read(&t, name);
	expect_n = ndel + nmove;
	for (i = 0; i < t.n && i < expect_n; i++)
		if (strcmp(t.inv[i].reason, expect[i]))
			order_ok = 0;
	ksft_print_msg("trace: %d invalidations of VM %s\n", t.n, name);
	ksft_test_result(t.n == expect_n && order_ok,
			 "%d start events for VM %s with the reasons in order (want %d: %d memslot_delete, %d memslot_move)\n",
			 t.n, name, expect_n, ndel, nmove);

	for (i = 0; i < t.n; i++) {
		const struct fi_inval *in = &t.inv[i];

		ksft_print_msg("id %lu %s: zapped %lu freed %lu tdp_sptes %lu, %lu batches (zap %lu commit %lu tdp %lu), releases c/r/b/d %lu/%lu/%lu/%lu, longest %lu ns (first hold %lu, later %lu), %lu ns\n",
			       in->id, in->reason, in->e_zapped, in->e_freed, in->e_tdp,
			       in->e_batches, in->batches[0], in->batches[1], in->batches[2],
			       in->rel[0], in->rel[1], in->rel[2], in->rel[3],
			       in->e_longest, in->max_first_ns, in->max_later_ns, in->e_duration);
		bad += fi_check_inval(in);
		TEST_ASSERT(!in->stock && !in->tdp_mmu == fi_shadow_mode(),
			    "id %lu: stock=%d tdp_mmu=%d in %s", in->id, in->stock,
			    in->tdp_mmu, fi_mode_name());
		s_zap += in->e_zapped;
		s_free += in->e_freed;
		s_tdp += in->e_tdp;
		s_batch += in->e_batches;
		for (p = 0; p < KVM_FASTINVAL_NR_PHASES; p++)
			s_ph[p] += in->batches[p];
		for (p = 0; p < KVM_FASTINVAL_NR_RELEASES; p++)
			s_rel[p] += in->rel[p];
		longest = in->e_longest > longest ? in->e_longest : longest;
		max_first = in->max_first_ns > max_first ? in->max_first_ns : max_first;
		max_later = in->max_later_ns > max_later ? in->max_later_ns : max_later;
		over += fi_holds_over(in, first_limit, later_limit);
	}
	ksft_test_result(bad == 0 && t.n > 0 && !t.lost,
			 "per invalidation: batch sums == end totals, releases add up, max lock_ns == longest_hold_ns (%d mismatches%s)\n",
			 bad, t.lost ? ", trace buffer overflowed" : "");
	ksft_test_result(s_zap + s_tdp > 0 && (!fi_shadow_mode() || s_zap > 0),
			 "the invalidations did work: %lu shadow pages zapped, %lu freed, %lu TDP SPTEs\n",
			 s_zap, s_free, s_tdp);

	ksft_print_msg("debugfs deltas: invalidations %lu (delete %lu move %lu) zapped %lu freed %lu tdp %lu batches %lu releases c/r/b/d %lu/%lu/%lu/%lu longest %lu\n",
		       DELTA("invalidations"),
		       DELTA_OF("invalidations", fi_reason_names[KVM_FASTINVAL_MEMSLOT_DELETE]),
		       DELTA_OF("invalidations", fi_reason_names[KVM_FASTINVAL_MEMSLOT_MOVE]),
		       DELTA("pages_zapped"), DELTA("pages_freed"), DELTA("tdp_sptes_zapped"),
		       DELTA("batches"),
		       DELTA_OF("releases", fi_rel_names[KVM_FASTINVAL_REL_CONTENTION]),
		       DELTA_OF("releases", fi_rel_names[KVM_FASTINVAL_REL_RESCHED]),
		       DELTA_OF("releases", fi_rel_names[KVM_FASTINVAL_REL_BUDGET]),
		       DELTA_OF("releases", fi_rel_names[KVM_FASTINVAL_REL_DONE]),
		       fi_counter(&c1, "longest_hold_ns"));
	ksft_test_result(DELTA("invalidations") == (uint64_t)expect_n &&
			 DELTA_OF("invalidations", fi_reason_names[KVM_FASTINVAL_MEMSLOT_DELETE]) ==
			 (uint64_t)ndel &&
			 DELTA_OF("invalidations", fi_reason_names[KVM_FASTINVAL_MEMSLOT_MOVE]) ==
			 (uint64_t)nmove,
			 "debugfs counts %d invalidations: %d deletes, %d moves\n", expect_n, ndel, nmove);
	sums_ok = 1;
	for (p = 0; p < KVM_FASTINVAL_NR_PHASES; p++)
		sums_ok &= DELTA_OF("batches", fi_ph_names[p]) == s_ph[p];
	for (p = 0; p < KVM_FASTINVAL_NR_RELEASES; p++)
		sums_ok &= DELTA_OF("releases", fi_rel_names[p]) == s_rel[p];
	ksft_test_result(sums_ok && DELTA("pages_zapped") == s_zap && DELTA("pages_freed") == s_free &&
			 DELTA("tdp_sptes_zapped") == s_tdp && DELTA("batches") == s_batch &&
			 fi_counter(&c1, "longest_hold_ns") == longest &&
			 fi_counter(&c1, "last_id") == (t.n ? t.inv[t.n - 1].id : 0),
			 "debugfs deltas == sums of the trace (pages, batches by phase, releases by reason, longest hold, last id)\n");
	ksft_print_msg("longest lock_ns: %lu ns in a first hold (limit %lu), %lu ns in later holds (limit %lu); budget %d us\n",
		       max_first, first_limit, max_later, later_limit, budget_us);
	ksft_test_result(over == 0, "no mmu_lock hold longer than budget + margin (%d holds over)\n",
			 over);
	ksft_test_result(!fi_shadow_mode() || s_zap < 3 || s_rel[KVM_FASTINVAL_REL_BUDGET] + s_rel[KVM_FASTINVAL_REL_CONTENTION] +
			 s_rel[KVM_FASTINVAL_REL_RESCHED] > 0,
			 "with fastinval_batch_pages=1 the lock was released mid-invalidation (%lu budget, %lu contention, %lu resched releases)\n",
			 s_rel[KVM_FASTINVAL_REL_BUDGET], s_rel[KVM_FASTINVAL_REL_CONTENTION], s_rel[KVM_FASTINVAL_REL_RESCHED]);

	/* A/B: the distro's own behaviour, still traced and counted. */
	fi_param_must_set("fastinval_mode", "stock");
	fi_write_file(FI_TRACEFS "/trace", "");
	c0 = c1;
	run_round();
	vm_mem_region_delete(vm, DEL_SLOT);
	TEST_ASSERT(!fi_counters_read(vm, &c1), "no debugfs counters");
	fi_param_must_set("fastinval_mode", "bounded");
	fi_trace_free(&t);
	fi_trace_read(&t, name);
	bad = t.n == 1 ? fi_check_inval(&t.inv[0]) : 1;
	ksft_test_result(t.n == 1 && t.inv[0].stock == 1 && !bad &&
			 !strcmp(t.inv[0].reason, fi_reason_names[KVM_FASTINVAL_MEMSLOT_DELETE]) &&
			 DELTA("invalidations") == 1 &&
			 DELTA("pages_zapped") == t.inv[0].e_zapped &&
			 DELTA("batches") == t.inv[0].e_batches,
			 "fastinval_mode=stock: a stock=1 invalidation whose events and counters add up (%d events, %d mismatches)\n",
			 t.n, bad);
	/* In the stock mode the commit frees everything in one hold. */
	ksft_test_result(t.n == 1 && t.inv[0].batches[KVM_FASTINVAL_PHASE_COMMIT] <= 1,
			 "fastinval_mode=stock: commit in one hold (%lu commit batches)\n",
			 t.n == 1 ? t.inv[0].batches[KVM_FASTINVAL_PHASE_COMMIT] : 0);
	fi_trace_stop();
	kvm_vm_free(vm);
	fi_kmsg_result(kmsg);
	ksft_finished();
}
