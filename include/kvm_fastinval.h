/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-fastinval: the interface between the patched KVM sources and the
 * module's own code.
 */
#ifndef _KVM_FASTINVAL_H
#define _KVM_FASTINVAL_H

#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "kvm_fastinval_names.h"

struct kvm;

struct kvm_fastinval_vm;

/*
 * One invalidation, on the stack of the thread doing it.  Only that thread
 * touches it, so it needs no locking.  The functions below but
 * kvm_fastinval_begin() and kvm_fastinval_end() accept NULL and then behave
 * as the distro's KVM does.
 */
struct kvm_fastinval_zap {
	struct kvm_fastinval_vm *vm;
	int vm_pid;		/* on every event: trace-cmd -f 'vm_pid == PID' */
	u64 id;
	u8 reason;
	u8 phase;
	bool stock;
	bool locked;
	enum kvm_fastinval_release pending;
	u32 batch_pages;
	u32 min_batch;
	u32 checks;
	u64 budget_ns;
	u64 share_ns;		/* hold at least this long before yielding to waiters */
	u64 t_start;		/* ktime_get_ns() at the start */
	u64 t_lock;		/* local_clock() when mmu_lock was taken */
	u64 t_relock;		/* local_clock() when a yield asked for it again */
	u64 t_batch;		/* local_clock() when the batch started */
	u64 batch;		/* pages (or SPTEs) in the current batch */
	u64 pages[KVM_FASTINVAL_NR_PHASES];
	u64 batches[KVM_FASTINVAL_NR_PHASES];
	u64 releases[KVM_FASTINVAL_NR_RELEASES];
	u64 longest_hold;
};

/* Per-VM state, from kvm_arch_init_vm() to kvm_arch_destroy_vm(). */
void kvm_fastinval_vm_init(struct kvm *kvm);
void kvm_fastinval_vm_destroy(struct kvm *kvm);
void kvm_fastinval_vm_debugfs(struct kvm *kvm);
/* kvm.ko unload: no VM is left. */
void kvm_fastinval_exit(void);

/* Memslot delete or move about to invalidate @kvm's MMU (slots_lock held). */
void kvm_fastinval_memslot_change(struct kvm *kvm, int change);
enum kvm_fastinval_reason kvm_fastinval_memslot_reason(struct kvm *kvm);

/*
 * Called with mmu_lock held for write, right after it was taken (and after
 * the generation bump, if any).  Starts the zap phase.
 */
void kvm_fastinval_begin(struct kvm_fastinval_zap *z, struct kvm *kvm,
			 enum kvm_fastinval_reason reason, unsigned long gen,
			 unsigned long used_pages, bool tdp_mmu);
/* The next kind of work, still under the same hold. */
void kvm_fastinval_phase(struct kvm_fastinval_zap *z,
			 enum kvm_fastinval_phase phase);
/* The caller is about to drop mmu_lock, or has just taken it. */
void kvm_fastinval_unlocking(struct kvm_fastinval_zap *z);
void kvm_fastinval_locked(struct kvm_fastinval_zap *z);
/* Called once mmu_lock is no longer held.  Emits the end event. */
void kvm_fastinval_end(struct kvm_fastinval_zap *z);

/* Gfn and TDP walks read the clock every this many checks. */
#define KVM_FASTINVAL_CLOCK_EVERY	16

static inline void kvm_fastinval_add(struct kvm_fastinval_zap *z, u64 n)
{
	if (z)
		z->batch += n;
}

/*
 * As kvm_fastinval_add(), for a step of a gfn or TDP walk that cost more
 * than a few clock reads (it freed a page table, or zapped shadow pages):
 * the next kvm_fastinval_need_break() reads the clock.
 */
static inline void kvm_fastinval_add_costly(struct kvm_fastinval_zap *z, u64 n)
{
	if (z) {
		z->batch += n;
		z->checks = KVM_FASTINVAL_CLOCK_EVERY - 1;
	}
}

/*
 * Release mmu_lock, reschedule, take it again (held for read if @shared).
 * Only after kvm_fastinval_need_break() said so.  Returns whether the lock
 * was dropped.
 */
bool kvm_fastinval_yield(struct kvm_fastinval_zap *z, rwlock_t *lock,
			 bool shared);
/* Whether the zap runs with the distro's exact lock behaviour. */
static inline bool kvm_fastinval_stock(struct kvm_fastinval_zap *z)
{
	return !z || z->stock;
}

bool __kvm_fastinval_need_break(struct kvm_fastinval_zap *z, rwlock_t *lock);

/*
 * Whether mmu_lock should be released now: contention, need_resched() or
 * the hold budget, once the phase's minimum batch is done.  Stock: the
 * distro's own condition.  Inline while nothing waits and the clock is not
 * due: TDP and gfn walks call it for every SPTE or gfn.
 */
static inline bool kvm_fastinval_need_break(struct kvm_fastinval_zap *z,
					    rwlock_t *lock)
{
	if (!need_resched() && !rwlock_is_contended(lock)) {
		if (kvm_fastinval_stock(z))
			return false;
		if (!z->min_batch && ++z->checks % KVM_FASTINVAL_CLOCK_EVERY)
			return false;
	}
	return __kvm_fastinval_need_break(z, lock);
}

#endif /* _KVM_FASTINVAL_H */
