// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_invalidate_test: invalidation under concurrency.
 *
 * Several vCPUs run while the host deletes, re-adds and moves memslots (each
 * delete and move is a "fast invalidate all pages"):
 *
 *  - kept slot: each vCPU writes a per-page, per-iteration pattern to its
 *    own pages and reads it back; at every iteration's GUEST_SYNC the host
 *    checks through its own mapping that every write landed (no write lost
 *    to a stale or freed page);
 *  - churned slot: the host re-creates it with fresh memory holding a new
 *    generation's pattern (delete + add, at the same or the other GPA) or
 *    moves it between two GPAs.  A seqlock in guest memory tells the guest
 *    the slot's GPA and content generation; the guest checks, whenever the
 *    seqlock did not move, that the slot's pages hold the current pattern
 *    (never the old slot's memory) and that the other GPA window has no
 *    memory (an MMIO exit, which the host answers with 0xa5 bytes), so a
 *    stale SPTE of the old location is caught.  The host waits after each
 *    change until a vCPU has verified it.
 *
 * Runs in the paging mode kvm_amd is loaded with (npt=1: TDP, npt=0:
 * shadow), which the harness chooses.  Skips (exit 4) unless kvm is
 * kvm-fastinval.
 *
 *   fastinval_invalidate_test [-v VCPUS] [-i CHANGES] [-t SECONDS]
 *
 * -i 0: as many changes as fit in -t SECONDS (fastinval_soak_test).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <time.h>

#include "fastinval_util.h"

#define KEPT_SLOT	10
#define CHURN_SLOT	11
#define KEPT_GPA	0x40000000UL
#define CHURN_GPA_A	0x50000000UL
#define CHURN_GPA_B	0x60000000UL
#define KEPT_PAGES	8		/* per vCPU */
#define CHURN_PAGES	32
#define MAX_VCPUS	8
#define PG		4096UL
#define MMIO_MARK	0xa5a5a5a5a5a5a5a5UL

enum { SYNC_ITER = 1, BAD_KEPT, BAD_CHURN, BAD_STALE };

#define PAT_K(id, it, p)	(0x4b00000000000000UL | ((uint64_t)(id) << 48) | \
				 ((uint64_t)(it) << 16) | (p))
#define PAT_C(gen, p)		(0x4300000000000000UL | ((uint64_t)(gen) << 20) | (p))

/* Shared with the host, in slot 0 (never changed). */
static volatile uint64_t churn_seq;	/* odd while the host changes the slot */
static volatile uint64_t churn_gpa;	/* the slot's GPA */
static volatile uint64_t churn_gen;	/* the pattern its memory holds */
static volatile uint64_t verified_seq[MAX_VCPUS];
static volatile uint64_t stop;

static void guest_code(uint64_t id)
{
	volatile uint64_t *k = (volatile uint64_t *)(KEPT_GPA + id * KEPT_PAGES * PG);
	uint64_t it, p, s1, s2, gpa, other, gen, v, bad_p, bad_v, checks = 0;

	for (it = 1; !stop; it++) {
		for (p = 0; p < KEPT_PAGES; p++) {
			k[p * 512] = PAT_K(id, it, p);
			k[p * 512 + 511] = ~PAT_K(id, it, p);
		}
		for (p = 0; p < KEPT_PAGES; p++) {
			if (k[p * 512] != PAT_K(id, it, p) ||
			    k[p * 512 + 511] != ~PAT_K(id, it, p))
				GUEST_SYNC_ARGS(BAD_KEPT, it, p, k[p * 512], PAT_K(id, it, p));
		}

		s1 = churn_seq;
		if (!(s1 & 1)) {
			gpa = churn_gpa;
			gen = churn_gen;
			other = gpa == CHURN_GPA_A ? CHURN_GPA_B : CHURN_GPA_A;
			bad_p = ~0UL;
			bad_v = 0;
			for (p = 0; p < CHURN_PAGES; p++) {
				v = ((volatile uint64_t *)(gpa + p * PG))[(p % 8) * 64];
				if (v != PAT_C(gen, p) && bad_p == ~0UL) {
					bad_p = p;
					bad_v = v;
				}
			}
			v = *(volatile uint64_t *)(other + (checks % CHURN_PAGES) * PG);
			s2 = churn_seq;
			if (s1 == s2) {
				if (bad_p != ~0UL)
					GUEST_SYNC_ARGS(BAD_CHURN, gen, bad_p, bad_v, gpa);
				if (v != MMIO_MARK)
					GUEST_SYNC_ARGS(BAD_STALE, gen, other, v, gpa);
				verified_seq[id] = s1;
				checks++;
			}
		}
		GUEST_SYNC_ARGS(SYNC_ITER, it, checks, 0, 0);
	}
	GUEST_DONE();
}

static struct kvm_vm *vm;
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static int nr_vcpus = 3;

struct vcpu_info {
	struct kvm_vcpu *vcpu;
	pthread_t thread;
	int id;
	uint64_t iters, checks, mmio_exits;
	int done;
};
static struct vcpu_info vcpus[MAX_VCPUS];

static void *vcpu_thread(void *arg)
{
	struct vcpu_info *vi = arg;
	uint64_t *kept = addr_gpa2hva(vm, KEPT_GPA + vi->id * KEPT_PAGES * PG);
	struct kvm_run *run = vi->vcpu->run;
	struct ucall uc;
	uint64_t cmd, p, it;

	for (;;) {
		vcpu_run(vi->vcpu);
		if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xa5, run->mmio.len);
			vi->mmio_exits++;
			continue;
		}
		pthread_mutex_lock(&lib_lock);
		cmd = get_ucall(vi->vcpu, &uc);
		pthread_mutex_unlock(&lib_lock);
		switch (cmd) {
		case UCALL_SYNC:
			switch (uc.args[1]) {
			case SYNC_ITER:
				it = uc.args[2];
				for (p = 0; p < KEPT_PAGES; p++)
					TEST_ASSERT(kept[p * 512] == PAT_K(vi->id, it, p) &&
						    kept[p * 512 + 511] == ~PAT_K(vi->id, it, p),
						    "vCPU %d: iteration %lu's write to kept page %lu lost: host sees 0x%lx, want 0x%lx",
						    vi->id, it, p, kept[p * 512], PAT_K(vi->id, it, p));
				vi->iters = it;
				vi->checks = uc.args[3];
				break;
			case BAD_KEPT:
				TEST_FAIL("vCPU %d: iteration %lu: kept page %lu reads 0x%lx after writing 0x%lx",
					  vi->id, uc.args[2], uc.args[3], uc.args[4], uc.args[5]);
				break;
			case BAD_CHURN:
				TEST_FAIL("vCPU %d: churned slot (generation %lu at 0x%lx): page %lu reads 0x%lx, want 0x%lx (stale data)",
					  vi->id, uc.args[2], uc.args[5], uc.args[3], uc.args[4],
					  PAT_C(uc.args[2], uc.args[3]));
				break;
			case BAD_STALE:
				TEST_FAIL("vCPU %d: GPA 0x%lx has no memslot (slot now at 0x%lx, generation %lu) but reads 0x%lx: the old slot's memory",
					  vi->id, uc.args[3], uc.args[5], uc.args[2], uc.args[4]);
				break;
			default:
				TEST_FAIL("unknown sync %lu", uc.args[1]);
			}
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
			break;
		case UCALL_DONE:
			vi->done = 1;
			return NULL;
		default:
			TEST_FAIL("vCPU %d: unexpected exit %u (%s)", vi->id,
				  run->exit_reason, exit_reason_str(run->exit_reason));
		}
	}
}

static volatile uint64_t *hv(volatile uint64_t *guest_var)
{
	return addr_gva2hva(vm, (uint64_t)guest_var);
}

/* Fill the churned slot's memory with generation @gen's pattern. */
static void fill_churn(uint64_t gpa, uint64_t gen)
{
	uint64_t *m = addr_gpa2hva(vm, gpa), p;

	for (p = 0; p < CHURN_PAGES; p++)
		m[p * 512 + (p % 8) * 64] = PAT_C(gen, p);
}

static int wait_verified(uint64_t seq, double timeout)
{
	double t0 = fi_now();
	int i;

	while (fi_now() - t0 < timeout) {
		for (i = 0; i < nr_vcpus; i++)
			if (*hv(&verified_seq[i]) == seq)
				return 1;
		usleep(1000);
	}
	return 0;
}

static void usage(const char *name)
{
	printf("usage: %s [-v VCPUS (1..%d, default 3)] [-i CHANGES (default 30; 0: until -t)] [-t SECONDS (default 120)]\n",
	       name, MAX_VCPUS);
	exit(KSFT_FAIL);
}

int main(int argc, char *argv[])
{
	struct kvm_vcpu *vc[MAX_VCPUS];
	int changes = 30, opt, i, ndone, kmsg, unverified = 0, deletes = 0, moves = 0;
	double limit = 120, t0;
	uint64_t gpa = CHURN_GPA_A, gen = 1, seq = 0, iters = 0, checks = 0, mmio = 0;
	struct fi_counters c0, c1;

	while ((opt = getopt(argc, argv, "v:i:t:h")) != -1) {
		switch (opt) {
		case 'v': nr_vcpus = atoi(optarg); break;
		case 'i': changes = atoi(optarg); break;
		case 't': limit = atof(optarg); break;
		default: usage(argv[0]);
		}
	}
	if (nr_vcpus < 1 || nr_vcpus > MAX_VCPUS || changes < 0 || (!changes && limit <= 0))
		usage(argv[0]);

	ksft_print_header();
	fi_require_module();
	fi_mount_fs();
	ksft_set_plan(5);
	kmsg = fi_kmsg_mark();
	ksft_print_msg("%s, %d vCPUs, %d slot changes\n", fi_mode_name(), nr_vcpus, changes);

	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vc);
	fi_ucall_init(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, KEPT_GPA, KEPT_SLOT,
				    KEPT_PAGES * nr_vcpus, 0);
	virt_map(vm, KEPT_GPA, KEPT_GPA, KEPT_PAGES * nr_vcpus);
	virt_map(vm, CHURN_GPA_A, CHURN_GPA_A, CHURN_PAGES);
	virt_map(vm, CHURN_GPA_B, CHURN_GPA_B, CHURN_PAGES);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa, CHURN_SLOT, CHURN_PAGES, 0);
	fill_churn(gpa, gen);
	*hv(&churn_gpa) = gpa;
	*hv(&churn_gen) = gen;
	for (i = 0; i < nr_vcpus; i++)
		*hv(&verified_seq[i]) = ~0UL;
	*hv(&churn_seq) = seq;
	TEST_ASSERT(!fi_counters_read(vm, &c0), "no debugfs counters for the VM");

	for (i = 0; i < nr_vcpus; i++) {
		vcpus[i].vcpu = vc[i];
		vcpus[i].id = i;
		vcpu_args_set(vc[i], 1, (uint64_t)i);
		pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i]);
	}
	if (!wait_verified(seq, 60))
		TEST_FAIL("no vCPU verified the first slot in 60 s");

	t0 = fi_now();
	for (i = 0; (!changes || i < changes) && fi_now() - t0 < limit; i++) {
		uint64_t other = gpa == CHURN_GPA_A ? CHURN_GPA_B : CHURN_GPA_A;

		*hv(&churn_seq) = ++seq;	/* odd: changing */
		pthread_mutex_lock(&lib_lock);
		switch (i % 3) {
		case 0:		/* delete, re-add fresh memory at the same GPA */
		case 2:		/* delete, re-add fresh memory at the other GPA */
			vm_mem_region_delete(vm, CHURN_SLOT);
			deletes++;
			if (i % 3 == 2)
				gpa = other;
			gen++;
			vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, gpa,
						    CHURN_SLOT, CHURN_PAGES, 0);
			fill_churn(gpa, gen);
			break;
		case 1:		/* move, same memory */
			vm_mem_region_move(vm, CHURN_SLOT, other);
			moves++;
			gpa = other;
			break;
		}
		pthread_mutex_unlock(&lib_lock);
		*hv(&churn_gpa) = gpa;
		*hv(&churn_gen) = gen;
		*hv(&churn_seq) = ++seq;	/* even: stable */
		if (!wait_verified(seq, 20))
			unverified++;
	}
	ndone = i;
	*hv(&stop) = 1;
	for (i = 0; i < nr_vcpus; i++) {
		pthread_join(vcpus[i].thread, NULL);
		iters += vcpus[i].iters;
		checks += vcpus[i].checks;
		mmio += vcpus[i].mmio_exits;
	}
	ksft_print_msg("%d changes (%d deletes, %d moves) in %.1f s; %lu guest iterations, %lu churned-slot checks, %lu MMIO exits\n",
		       ndone, deletes, moves, fi_now() - t0, iters, checks, mmio);

	if (changes)
		ksft_test_result(ndone == changes, "all %d slot changes done within %.0f s (%d)\n",
				 changes, limit, ndone);
	else
		ksft_test_result(ndone > 0, "%d slot changes in %.0f s\n", ndone, limit);
	ksft_test_result(unverified == 0,
			 "the guest verified the slot's new contents after every change (%d unverified)\n",
			 unverified);
	/* Every iteration's kept writes were checked at its sync (TEST_ASSERT). */
	ksft_test_result(iters >= (uint64_t)nr_vcpus,
			 "no write to the kept slot lost (%lu iterations checked by the host)\n", iters);
	TEST_ASSERT(!fi_counters_read(vm, &c1), "no debugfs counters for the VM");
	ksft_print_msg("debugfs: invalidations %lu -> %lu, memslot_delete +%lu, memslot_move +%lu\n",
		       fi_counter(&c0, "invalidations"), fi_counter(&c1, "invalidations"),
		       fi_counter(&c1, "invalidations_memslot_delete") - fi_counter(&c0, "invalidations_memslot_delete"),
		       fi_counter(&c1, "invalidations_memslot_move") - fi_counter(&c0, "invalidations_memslot_move"));
	ksft_test_result(fi_counter(&c1, "invalidations_memslot_delete") -
			 fi_counter(&c0, "invalidations_memslot_delete") == (uint64_t)deletes &&
			 fi_counter(&c1, "invalidations_memslot_move") -
			 fi_counter(&c0, "invalidations_memslot_move") == (uint64_t)moves,
			 "debugfs counts the %d deletes and %d moves\n", deletes, moves);
	kvm_vm_free(vm);
	fi_kmsg_result(kmsg);
	ksft_finished();
}
