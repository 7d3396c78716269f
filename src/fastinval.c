// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded mmu_lock holds, tracepoints and per-VM counters for the zaps that
 * drop all (or all obsolete) shadow pages of a VM: memslot delete/move, MMIO
 * generation wrap, nx_huge_pages changes, VM teardown and 6.12's per-slot
 * zap.  The patched mmu.c/tdp_mmu.c keep the walks; this file decides when
 * mmu_lock is released and accounts for every hold.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/kvm_host.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <linux/xarray.h>

#include "kvm_fastinval.h"

#define CREATE_TRACE_POINTS
#include "kvm_fastinval_trace.h"

/* Debian's 6.12 and 7.x kernels have kzalloc_obj(), 6.1 has not. */
#ifndef kzalloc_obj
#define kzalloc_obj(P, GFP) kzalloc(sizeof(P), GFP)
#endif

/*
 * Module parameters, read once per invalidation.  They live in kvm's own
 * parameter namespace, hence the fastinval_ prefix.
 *
 * fastinval_mode=stock reproduces the distro's KVM: BATCH_ZAP_PAGES (10)
 * pages before cond_resched_rwlock_write(), which yields only on
 * need_resched() or rwlock_needbreak() (0 on non-preemptible kernels), and
 * all zapped pages freed in the same hold.  fastinval_batch_pages and
 * fastinval_hold_budget_us are then ignored.
 */
#define FASTINVAL_STOCK_BATCH	10	/* the distro's BATCH_ZAP_PAGES */
#define FASTINVAL_BATCH_MAX	65536
#define FASTINVAL_BUDGET_MAX	1000000	/* 1 s */
/*
 * Waiters on mmu_lock get it once the zap has held it this many times as long
 * as the zap last waited to take it back: however long they keep it, the zap
 * keeps 8/9 of the lock time (up to the budget) and finishes in bounded time.
 */
#define FASTINVAL_SHARE		8

enum fastinval_mode {
	FASTINVAL_MODE_BOUNDED,
	FASTINVAL_MODE_STOCK,
};

static const char * const mode_names[] = {
	[FASTINVAL_MODE_BOUNDED] = "bounded",
	[FASTINVAL_MODE_STOCK] = "stock",
};

static int fastinval_mode = FASTINVAL_MODE_BOUNDED;
static unsigned int fastinval_batch_pages = FASTINVAL_STOCK_BATCH;
static unsigned int fastinval_hold_budget_us = 5000;

/* Values written through sysfs end in a newline: not part of the value. */
static int value_len(const char *val)
{
	return strcspn(val, "\n");
}

static int fastinval_set_uint(const char *val, const struct kernel_param *kp,
			      unsigned int min, unsigned int max)
{
	unsigned int n;

	if (!val || kstrtouint(val, 0, &n) || n < min || n > max) {
		pr_warn("%s: invalid value '%.*s', must be %u..%u; keeping %u\n",
			kp->name, val ? value_len(val) : 0, val ?: "", min, max,
			*(unsigned int *)kp->arg);
		return -EINVAL;
	}
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static int fastinval_set_batch(const char *val, const struct kernel_param *kp)
{
	return fastinval_set_uint(val, kp, 1, FASTINVAL_BATCH_MAX);
}

static int fastinval_set_budget(const char *val, const struct kernel_param *kp)
{
	return fastinval_set_uint(val, kp, 1, FASTINVAL_BUDGET_MAX);
}

static int fastinval_set_mode(const char *val, const struct kernel_param *kp)
{
	int mode;

	/* A bare "fastinval_mode", as for a boolean: turn kvm-fastinval on. */
	mode = val ? sysfs_match_string(mode_names, val) : FASTINVAL_MODE_BOUNDED;
	if (mode < 0) {
		pr_warn("%s: invalid value '%.*s', must be bounded or stock; keeping %s\n",
			kp->name, value_len(val), val,
			mode_names[READ_ONCE(*(int *)kp->arg)]);
		return -EINVAL;
	}
	WRITE_ONCE(*(int *)kp->arg, mode);
	return 0;
}

static int fastinval_get_mode(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mode_names[READ_ONCE(*(int *)kp->arg)]);
}

static const struct kernel_param_ops fastinval_batch_ops = {
	.set = fastinval_set_batch,
	.get = param_get_uint,
};

static const struct kernel_param_ops fastinval_budget_ops = {
	.set = fastinval_set_budget,
	.get = param_get_uint,
};

static const struct kernel_param_ops fastinval_mode_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = fastinval_set_mode,
	.get = fastinval_get_mode,
};

module_param_cb(fastinval_mode, &fastinval_mode_ops, &fastinval_mode, 0644);
__MODULE_PARM_TYPE(fastinval_mode, "string");
MODULE_PARM_DESC(fastinval_mode,
		 "kvm-fastinval: bounded (default): mmu_lock holds of invalidations bounded; stock: the distro KVM's own zap and lock behaviour, for A/B comparison");
module_param_cb(fastinval_batch_pages, &fastinval_batch_ops,
		&fastinval_batch_pages, 0644);
__MODULE_PARM_TYPE(fastinval_batch_pages, "uint");
MODULE_PARM_DESC(fastinval_batch_pages,
		 "kvm-fastinval: shadow pages zapped or freed per mmu_lock hold before it may be released (1..65536, default 10)");
module_param_cb(fastinval_hold_budget_us, &fastinval_budget_ops,
		&fastinval_hold_budget_us, 0644);
__MODULE_PARM_TYPE(fastinval_hold_budget_us, "uint");
MODULE_PARM_DESC(fastinval_hold_budget_us,
		 "kvm-fastinval: longest mmu_lock hold of a zap before it is released, in us (1..1000000, default 5000)");

/* Written at build time by scripts/kvm-source.sh. */
#include "kvm_fastinval_build.h"
MODULE_VERSION(KVM_FASTINVAL_VERSION);
MODULE_INFO(kvm_fastinval, "kvm-fastinval " KVM_FASTINVAL_VERSION
	    " built from " KVM_FASTINVAL_SOURCE);

struct kvm_fastinval_counters {
	u64 invalidations[KVM_FASTINVAL_NR_REASONS];
	u64 pages[KVM_FASTINVAL_NR_PHASES];
	u64 batches[KVM_FASTINVAL_NR_PHASES];
	u64 releases[KVM_FASTINVAL_NR_RELEASES];
	u64 longest_hold;
	u64 last_id;
};

/* Per-VM state, keyed by struct kvm *. */
struct kvm_fastinval_vm {
	/*
	 * The counters and the name: an nx_huge_pages zap of every VM may
	 * read the name while the VM's debugfs directory is being named.
	 */
	spinlock_t lock;
	struct kvm_fastinval_counters c;
	char name[KVM_FASTINVAL_VM_NAME_LEN];
	int pid;
	int memslot_change;		/* under slots_lock */
};

static DEFINE_XARRAY(fastinval_vms);
static atomic64_t fastinval_ids = ATOMIC64_INIT(0);

static const char * const reason_names[] = {
	KVM_FASTINVAL_REASONS(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};

static_assert(ARRAY_SIZE(reason_names) == KVM_FASTINVAL_NR_REASONS);

static const char * const phase_names[] = {
	KVM_FASTINVAL_PHASES(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};

static_assert(ARRAY_SIZE(phase_names) == KVM_FASTINVAL_NR_PHASES);

static const char * const release_names[] = {
	KVM_FASTINVAL_RELEASES(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};

static_assert(ARRAY_SIZE(release_names) == KVM_FASTINVAL_NR_RELEASES);

static struct kvm_fastinval_vm *fastinval_vm(struct kvm *kvm)
{
	return xa_load(&fastinval_vms, (unsigned long)kvm);
}

void kvm_fastinval_vm_init(struct kvm *kvm)
{
	struct kvm_fastinval_vm *vm;

	/* Without it the VM runs as well, only without counters. */
	vm = kzalloc_obj(*vm, GFP_KERNEL_ACCOUNT);
	if (!vm)
		return;
	spin_lock_init(&vm->lock);
	vm->pid = task_pid_nr(current);
	vm->memslot_change = -1;
	snprintf(vm->name, sizeof(vm->name), "%d", vm->pid);
	if (xa_err(xa_store(&fastinval_vms, (unsigned long)kvm, vm,
			    GFP_KERNEL_ACCOUNT))) {
		pr_warn_ratelimited("no memory for the counters of a new VM\n");
		kfree(vm);
	}
}

void kvm_fastinval_vm_destroy(struct kvm *kvm)
{
	/* The VM's debugfs directory, our file in it, is already gone. */
	kfree(xa_erase(&fastinval_vms, (unsigned long)kvm));
}

void kvm_fastinval_exit(void)
{
	/* A VM holds its vendor module, and that holds kvm.ko. */
	WARN_ON(!xa_empty(&fastinval_vms));
	xa_destroy(&fastinval_vms);
}

static int fastinval_show(struct seq_file *m, void *unused)
{
	struct kvm_fastinval_vm *vm = m->private;
	struct kvm_fastinval_counters s;
	u64 total = 0;
	int i;

	spin_lock(&vm->lock);
	s = vm->c;
	spin_unlock(&vm->lock);

	for (i = 0; i < KVM_FASTINVAL_NR_REASONS; i++)
		total += s.invalidations[i];
	seq_printf(m, "invalidations %llu\n", total);
	for (i = 0; i < KVM_FASTINVAL_NR_REASONS; i++)
		seq_printf(m, "invalidations_%s %llu\n", reason_names[i],
			   s.invalidations[i]);
	seq_printf(m, "pages_zapped %llu\n", s.pages[KVM_FASTINVAL_PHASE_ZAP]);
	seq_printf(m, "pages_freed %llu\n", s.pages[KVM_FASTINVAL_PHASE_COMMIT]);
	seq_printf(m, "tdp_sptes_zapped %llu\n", s.pages[KVM_FASTINVAL_PHASE_TDP]);
	seq_printf(m, "batches %llu\n",
		   s.batches[KVM_FASTINVAL_PHASE_ZAP] +
		   s.batches[KVM_FASTINVAL_PHASE_COMMIT] +
		   s.batches[KVM_FASTINVAL_PHASE_TDP]);
	for (i = 0; i < KVM_FASTINVAL_NR_PHASES; i++)
		seq_printf(m, "batches_%s %llu\n", phase_names[i], s.batches[i]);
	for (i = 0; i < KVM_FASTINVAL_NR_RELEASES; i++)
		seq_printf(m, "releases_%s %llu\n", release_names[i],
			   s.releases[i]);
	seq_printf(m, "longest_hold_ns %llu\n", s.longest_hold);
	seq_printf(m, "last_id %llu\n", s.last_id);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(fastinval);

void kvm_fastinval_vm_debugfs(struct kvm *kvm)
{
	struct kvm_fastinval_vm *vm = fastinval_vm(kvm);
	char name[KVM_FASTINVAL_VM_NAME_LEN];

	if (!vm || IS_ERR_OR_NULL(kvm->debugfs_dentry))
		return;
	/* "<pid>-<fd>", the directory's name: what users match VMs by. */
	snprintf(name, sizeof(name), "%pd", kvm->debugfs_dentry);
	spin_lock(&vm->lock);
	memcpy(vm->name, name, sizeof(name));
	spin_unlock(&vm->lock);
	/*
	 * debugfs_remove_recursive() of the directory, before
	 * kvm_arch_destroy_vm() frees @vm, waits for readers of the file.
	 */
	debugfs_create_file("fastinval", 0444, kvm->debugfs_dentry, vm,
			    &fastinval_fops);
}

void kvm_fastinval_memslot_change(struct kvm *kvm, int change)
{
	struct kvm_fastinval_vm *vm = fastinval_vm(kvm);

	lockdep_assert_held(&kvm->slots_lock);
	if (vm)
		vm->memslot_change = change;
}

enum kvm_fastinval_reason kvm_fastinval_memslot_reason(struct kvm *kvm)
{
	struct kvm_fastinval_vm *vm = fastinval_vm(kvm);
	int change;

	lockdep_assert_held(&kvm->slots_lock);
	if (!vm)
		return KVM_FASTINVAL_MEMSLOT_DELETE;
	change = vm->memslot_change;
	vm->memslot_change = -1;
	return change == KVM_MR_MOVE ? KVM_FASTINVAL_MEMSLOT_MOVE :
				       KVM_FASTINVAL_MEMSLOT_DELETE;
}

static void fastinval_close_batch(struct kvm_fastinval_zap *z,
				  enum kvm_fastinval_release why, u64 now,
				  bool end_of_hold)
{
	/*
	 * A phase that found nothing to do is no batch, unless mmu_lock is
	 * released after it: every hold ends with a batch event.
	 */
	if (why == KVM_FASTINVAL_REL_DONE && !z->batch && !end_of_hold)
		goto out;

	z->pages[z->phase] += z->batch;
	z->batches[z->phase]++;
	z->releases[why]++;
	trace_kvm_fastinval_batch(z->id, z->phase, z->batch, now - z->t_batch,
				  now - z->t_lock, why, z->vm_pid);
out:
	z->batch = 0;
	z->t_batch = now;
}

static void fastinval_start_hold(struct kvm_fastinval_zap *z)
{
	z->locked = true;
	z->checks = 0;
	z->t_lock = local_clock();
	z->t_batch = z->t_lock;
	/* Only the wait for the lock itself, not time spent descheduled. */
	if (z->t_relock)
		z->share_ns = min(FASTINVAL_SHARE * (z->t_lock - z->t_relock),
				  z->budget_ns);
	z->t_relock = 0;
}

static void fastinval_end_hold(struct kvm_fastinval_zap *z,
			       enum kvm_fastinval_release why)
{
	u64 now = local_clock();

	fastinval_close_batch(z, why, now, true);
	z->longest_hold = max(z->longest_hold, now - z->t_lock);
	z->locked = false;
}

void kvm_fastinval_begin(struct kvm_fastinval_zap *z, struct kvm *kvm,
			 enum kvm_fastinval_reason reason, unsigned long gen,
			 unsigned long used_pages, bool tdp_mmu)
{
	struct kvm_fastinval_vm *vm = fastinval_vm(kvm);

	memset(z, 0, sizeof(*z));
	z->vm = vm;
	z->vm_pid = vm ? vm->pid : 0;
	z->reason = reason;
	z->id = atomic64_inc_return(&fastinval_ids);
	z->stock = READ_ONCE(fastinval_mode) == FASTINVAL_MODE_STOCK;
	z->batch_pages = READ_ONCE(fastinval_batch_pages);
	z->budget_ns = (u64)READ_ONCE(fastinval_hold_budget_us) * NSEC_PER_USEC;
	z->t_start = ktime_get_ns();
	z->pending = KVM_FASTINVAL_REL_DONE;
	fastinval_start_hold(z);
	kvm_fastinval_phase(z, KVM_FASTINVAL_PHASE_ZAP);

	if (trace_kvm_fastinval_start_enabled()) {
		char name[KVM_FASTINVAL_VM_NAME_LEN] = "?";

		if (vm) {
			spin_lock(&vm->lock);
			memcpy(name, vm->name, sizeof(name));
			spin_unlock(&vm->lock);
		}
		trace_kvm_fastinval_start(z->id, name, z->vm_pid, reason, gen,
					  used_pages, tdp_mmu, z->stock);
	}
}

void kvm_fastinval_phase(struct kvm_fastinval_zap *z,
			 enum kvm_fastinval_phase phase)
{
	if (!z)
		return;
	if (z->locked)
		fastinval_close_batch(z, KVM_FASTINVAL_REL_DONE, local_clock(),
				      false);
	z->phase = phase;
	/*
	 * List walks restart from the list's end after a break, and the commit
	 * must free something per hold, so they make a minimum of progress
	 * (stock: never breaks the commit).  The TDP MMU iterator and the
	 * per-slot gfn walk move forward whatever happens, they need no
	 * minimum.  Stock: BATCH_ZAP_PAGES for obsolete pages, none for
	 * kvm_mmu_zap_all().
	 */
	if (phase == KVM_FASTINVAL_PHASE_COMMIT)
		z->min_batch = z->batch_pages;
	else if (phase == KVM_FASTINVAL_PHASE_TDP ||
		 z->reason == KVM_FASTINVAL_SLOT_ZAP)
		z->min_batch = 0;
	else if (!z->stock)
		z->min_batch = z->batch_pages;
	else if (z->reason == KVM_FASTINVAL_TEARDOWN)
		z->min_batch = 0;
	else
		z->min_batch = FASTINVAL_STOCK_BATCH;
}

void kvm_fastinval_unlocking(struct kvm_fastinval_zap *z)
{
	if (z && z->locked)
		fastinval_end_hold(z, KVM_FASTINVAL_REL_DONE);
}

void kvm_fastinval_locked(struct kvm_fastinval_zap *z)
{
	if (z && !z->locked)
		fastinval_start_hold(z);
}

void kvm_fastinval_end(struct kvm_fastinval_zap *z)
{
	struct kvm_fastinval_vm *vm = z->vm;
	u64 duration = ktime_get_ns() - z->t_start;
	int i;

	WARN_ON_ONCE(z->locked);
	trace_kvm_fastinval_end(z, duration);
	if (!vm)
		return;

	spin_lock(&vm->lock);
	vm->c.invalidations[z->reason]++;
	for (i = 0; i < KVM_FASTINVAL_NR_PHASES; i++) {
		vm->c.pages[i] += z->pages[i];
		vm->c.batches[i] += z->batches[i];
	}
	for (i = 0; i < KVM_FASTINVAL_NR_RELEASES; i++)
		vm->c.releases[i] += z->releases[i];
	vm->c.longest_hold = max(vm->c.longest_hold, z->longest_hold);
	vm->c.last_id = z->id;
	spin_unlock(&vm->lock);
}

/* kvm_fastinval_need_break() once its inline part could not say no. */
bool __kvm_fastinval_need_break(struct kvm_fastinval_zap *z, rwlock_t *lock)
{
	bool contended;
	u64 held;

	if (kvm_fastinval_stock(z)) {
		/* The distro frees all zapped pages in one hold. */
		if (z && (z->phase == KVM_FASTINVAL_PHASE_COMMIT ||
			  z->batch < z->min_batch))
			return false;
		if (need_resched()) {
			if (z)
				z->pending = KVM_FASTINVAL_REL_RESCHED;
			return true;
		}
		if (rwlock_needbreak(lock)) {
			if (z)
				z->pending = KVM_FASTINVAL_REL_CONTENTION;
			return true;
		}
		return false;
	}

	if (z->batch < z->min_batch)
		return false;
	if (need_resched()) {
		z->pending = KVM_FASTINVAL_REL_RESCHED;
		return true;
	}
	/* Whatever the preemption model: rwlock_needbreak() may be 0. */
	contended = rwlock_is_contended(lock);
	held = local_clock() - z->t_lock;
	if (held > z->budget_ns) {
		z->pending = KVM_FASTINVAL_REL_BUDGET;
		return true;
	}
	if (contended && held >= z->share_ns) {
		z->pending = KVM_FASTINVAL_REL_CONTENTION;
		return true;
	}
	return false;
}

bool kvm_fastinval_yield(struct kvm_fastinval_zap *z, rwlock_t *lock,
			 bool shared)
{
	bool yielded;

	if (kvm_fastinval_stock(z)) {
		u64 now = z ? local_clock() : 0;

		/* The distro's call, which checks again and may not yield. */
		if (shared)
			yielded = cond_resched_rwlock_read(lock);
		else
			yielded = cond_resched_rwlock_write(lock);
		if (z && yielded) {
			/* The hold ended at the unlock, before rescheduling. */
			fastinval_close_batch(z, z->pending, now, true);
			z->longest_hold = max(z->longest_hold, now - z->t_lock);
			fastinval_start_hold(z);
		}
		return yielded;
	}

	fastinval_end_hold(z, z->pending);
	if (shared)
		read_unlock(lock);
	else
		write_unlock(lock);
	cond_resched();
	z->t_relock = local_clock();
	if (shared)
		read_lock(lock);
	else
		write_lock(lock);
	fastinval_start_hold(z);
	return true;
}
