/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one table of kvm-fastinval's names: why an invalidation runs, what
 * the work of one mmu_lock hold is, why a hold ends.  The module, its
 * tracepoints, the kselftests, the benchmark and kvm-fastinval-stat use
 * it; no kernel types, so that userspace includes it too.  The values are
 * part of the trace format: append only.
 */
#ifndef _KVM_FASTINVAL_NAMES_H
#define _KVM_FASTINVAL_NAMES_H

/* Why all (or all obsolete) pages of a VM are zapped. */
enum kvm_fastinval_reason {
	KVM_FASTINVAL_MEMSLOT_DELETE,
	KVM_FASTINVAL_MEMSLOT_MOVE,
	KVM_FASTINVAL_MMIO_GEN_WRAP,
	KVM_FASTINVAL_NX_HUGE_PAGES,
	KVM_FASTINVAL_TEARDOWN,
	KVM_FASTINVAL_SLOT_ZAP,
	KVM_FASTINVAL_NR_REASONS,
};

/* What the work done under one mmu_lock hold was. */
enum kvm_fastinval_phase {
	KVM_FASTINVAL_PHASE_ZAP,	/* shadow pages zapped (prepared) */
	KVM_FASTINVAL_PHASE_COMMIT,	/* zapped shadow pages freed */
	KVM_FASTINVAL_PHASE_TDP,	/* TDP MMU SPTEs zapped */
	KVM_FASTINVAL_NR_PHASES,
};

/* Why a hold ended. */
enum kvm_fastinval_release {
	KVM_FASTINVAL_REL_CONTENTION,	/* mmu_lock has waiters */
	KVM_FASTINVAL_REL_RESCHED,	/* need_resched() */
	KVM_FASTINVAL_REL_BUDGET,	/* hold longer than fastinval_hold_budget_us */
	KVM_FASTINVAL_REL_DONE,		/* phase or invalidation finished */
	KVM_FASTINVAL_NR_RELEASES,
};

/*
 * The names, in the enums' order: X(CONSTANT, name) for every value but the
 * last, LAST(CONSTANT, name) for the last (__print_symbolic() takes no
 * trailing comma).
 */
#define KVM_FASTINVAL_REASONS(X, LAST)					\
	X(MEMSLOT_DELETE, memslot_delete)				\
	X(MEMSLOT_MOVE, memslot_move)					\
	X(MMIO_GEN_WRAP, mmio_gen_wrap)					\
	X(NX_HUGE_PAGES, nx_huge_pages)					\
	X(TEARDOWN, teardown)						\
	LAST(SLOT_ZAP, slot_zap)

#define KVM_FASTINVAL_PHASES(X, LAST)					\
	X(PHASE_ZAP, zap)						\
	X(PHASE_COMMIT, commit)						\
	LAST(PHASE_TDP, tdp)

#define KVM_FASTINVAL_RELEASES(X, LAST)					\
	X(REL_CONTENTION, contention)					\
	X(REL_RESCHED, resched)						\
	X(REL_BUDGET, budget)						\
	LAST(REL_DONE, done)

/* Array initializers: names[] = { KVM_FASTINVAL_REASONS(NAME, NAME) }. */
#define KVM_FASTINVAL_NAME(c, n)					\
	[KVM_FASTINVAL_##c] = #n,

/* __print_symbolic(v, KVM_FASTINVAL_SYMBOLS(KVM_FASTINVAL_REASONS)) */
#define KVM_FASTINVAL_SYMBOL(c, n)	{ KVM_FASTINVAL_##c, #n },
#define KVM_FASTINVAL_SYMBOL_LAST(c, n)	{ KVM_FASTINVAL_##c, #n }
#define KVM_FASTINVAL_SYMBOLS(list)					\
	list(KVM_FASTINVAL_SYMBOL, KVM_FASTINVAL_SYMBOL_LAST)

#endif /* _KVM_FASTINVAL_NAMES_H */
