/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-fastinval tracepoints: one event when a VM's MMU invalidation starts,
 * one per mmu_lock hold ("batch") of its zap, commit (free) and TDP MMU
 * phases, and one when it ends.  Events of one invalidation share its id.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kvm_fastinval

#if !defined(_KVM_FASTINVAL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _KVM_FASTINVAL_TRACE_H

#include <linux/tracepoint.h>

#include "kvm_fastinval.h"

#define KVM_FASTINVAL_VM_NAME_LEN 24

TRACE_DEFINE_ENUM(KVM_FASTINVAL_MEMSLOT_DELETE);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_MEMSLOT_MOVE);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_MMIO_GEN_WRAP);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_NX_HUGE_PAGES);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_TEARDOWN);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_SLOT_ZAP);

TRACE_DEFINE_ENUM(KVM_FASTINVAL_PHASE_ZAP);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_PHASE_COMMIT);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_PHASE_TDP);

TRACE_DEFINE_ENUM(KVM_FASTINVAL_REL_CONTENTION);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_REL_RESCHED);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_REL_BUDGET);
TRACE_DEFINE_ENUM(KVM_FASTINVAL_REL_DONE);

TRACE_EVENT(kvm_fastinval_start,
	    TP_PROTO(u64 id, const char *vm, int vm_pid, u8 reason, u64 gen,
		     u64 used_pages, bool tdp_mmu, bool stock),
	    TP_ARGS(id, vm, vm_pid, reason, gen, used_pages, tdp_mmu, stock),

	    TP_STRUCT__entry(__field(u64, id)
			     __array(char, vm, KVM_FASTINVAL_VM_NAME_LEN)
			     __field(int, vm_pid)
			     __field(u8, reason)
			     __field(u64, gen)
			     __field(u64, used_pages)
			     __field(bool, tdp_mmu)
			     __field(bool, stock)),

	    TP_fast_assign(__entry->id = id;
			   strscpy(__entry->vm, vm, KVM_FASTINVAL_VM_NAME_LEN);
			   __entry->vm_pid = vm_pid;
			   __entry->reason = reason;
			   __entry->gen = gen;
			   __entry->used_pages = used_pages;
			   __entry->tdp_mmu = tdp_mmu;
			   __entry->stock = stock;),

	    TP_printk("id=%llu vm=%s vm_pid=%d reason=%s gen=%llu used_pages=%llu tdp_mmu=%d stock=%d",
		      __entry->id, __entry->vm, __entry->vm_pid,
		      __print_symbolic(__entry->reason,
				       KVM_FASTINVAL_SYMBOLS(KVM_FASTINVAL_REASONS)),
		      __entry->gen, __entry->used_pages, __entry->tdp_mmu,
		      __entry->stock)
);

TRACE_EVENT(kvm_fastinval_batch,
	    TP_PROTO(u64 id, u8 phase, u64 pages, u64 hold_ns, u64 lock_ns,
		     u8 release, int vm_pid),
	    TP_ARGS(id, phase, pages, hold_ns, lock_ns, release, vm_pid),

	    TP_STRUCT__entry(__field(u64, id)
			     __field(u8, phase)
			     __field(u8, release)
			     __field(int, vm_pid)
			     __field(u64, pages)
			     __field(u64, hold_ns)
			     __field(u64, lock_ns)),

	    TP_fast_assign(__entry->id = id;
			   __entry->phase = phase;
			   __entry->release = release;
			   __entry->vm_pid = vm_pid;
			   __entry->pages = pages;
			   __entry->hold_ns = hold_ns;
			   __entry->lock_ns = lock_ns;),

	    TP_printk("id=%llu phase=%s pages=%llu hold_ns=%llu lock_ns=%llu release=%s vm_pid=%d",
		      __entry->id,
		      __print_symbolic(__entry->phase,
				       KVM_FASTINVAL_SYMBOLS(KVM_FASTINVAL_PHASES)),
		      __entry->pages, __entry->hold_ns, __entry->lock_ns,
		      __print_symbolic(__entry->release,
				       KVM_FASTINVAL_SYMBOLS(KVM_FASTINVAL_RELEASES)),
		      __entry->vm_pid)
);

TRACE_EVENT(kvm_fastinval_end,
	    TP_PROTO(const struct kvm_fastinval_zap *z, u64 duration_ns),
	    TP_ARGS(z, duration_ns),

	    TP_STRUCT__entry(__field(u64, id)
			     __field(u8, reason)
			     __field(int, vm_pid)
			     __field(u64, zapped)
			     __field(u64, freed)
			     __field(u64, tdp_sptes)
			     __field(u64, batches)
			     __field(u64, contention)
			     __field(u64, resched)
			     __field(u64, budget)
			     __field(u64, longest_hold_ns)
			     __field(u64, duration_ns)),

	    TP_fast_assign(__entry->id = z->id;
			   __entry->reason = z->reason;
			   __entry->vm_pid = z->vm_pid;
			   __entry->zapped = z->pages[KVM_FASTINVAL_PHASE_ZAP];
			   __entry->freed = z->pages[KVM_FASTINVAL_PHASE_COMMIT];
			   __entry->tdp_sptes = z->pages[KVM_FASTINVAL_PHASE_TDP];
			   __entry->batches = z->batches[KVM_FASTINVAL_PHASE_ZAP] +
					      z->batches[KVM_FASTINVAL_PHASE_COMMIT] +
					      z->batches[KVM_FASTINVAL_PHASE_TDP];
			   __entry->contention = z->releases[KVM_FASTINVAL_REL_CONTENTION];
			   __entry->resched = z->releases[KVM_FASTINVAL_REL_RESCHED];
			   __entry->budget = z->releases[KVM_FASTINVAL_REL_BUDGET];
			   __entry->longest_hold_ns = z->longest_hold;
			   __entry->duration_ns = duration_ns;),

	    TP_printk("id=%llu reason=%s zapped=%llu freed=%llu tdp_sptes=%llu batches=%llu contention=%llu resched=%llu budget=%llu longest_hold_ns=%llu duration_ns=%llu vm_pid=%d",
		      __entry->id,
		      __print_symbolic(__entry->reason,
				       KVM_FASTINVAL_SYMBOLS(KVM_FASTINVAL_REASONS)),
		      __entry->zapped, __entry->freed, __entry->tdp_sptes,
		      __entry->batches, __entry->contention, __entry->resched,
		      __entry->budget, __entry->longest_hold_ns,
		      __entry->duration_ns, __entry->vm_pid)
);

#endif /* _KVM_FASTINVAL_TRACE_H */

/* Built out of tree: the build puts this directory on the include path. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kvm_fastinval_trace

#include <trace/define_trace.h>
