/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the kvm-fastinval kselftests: skip on a kernel without
 * kvm-fastinval, module parameters, the per-VM debugfs counters, the
 * kvm_fastinval trace events read from tracefs, and the kernel log check
 * every test ends with.  Header only, for both the 6.1 and 6.12 KVM
 * selftest libraries.
 */
#ifndef FASTINVAL_UTIL_H
#define FASTINVAL_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/version.h>

#include "kvm_util.h"
#include "processor.h"
#include "kselftest.h"
#include "kvm_fastinval_names.h"

/*
 * Guest code of the tests that only need a vCPU writing memory: round after
 * round, write the round number into word @word of each of @pages pages from
 * @gpa, then GUEST_SYNC(round).
 */
static inline void fi_guest_write_rounds(uint64_t gpa, uint64_t pages, int word)
{
	uint64_t p, round;

	for (round = 1;; round++) {
		for (p = 0; p < pages; p++)
			((volatile uint64_t *)(gpa + p * 4096))[word] = round;
		GUEST_SYNC(round);
	}
}

#define FI_SYS		"/sys/module/kvm"
#define FI_PARAMS	FI_SYS "/parameters/"
/* Only kvm-fastinval's kvm has it. */
#define FI_MODE		FI_PARAMS "fastinval_mode"
#define FI_TRACEFS	"/sys/kernel/tracing"
#define FI_DEBUGFS	"/sys/kernel/debug"

/* 6.1's library has no ucall_init() call in vm_create(); x86's is a no-op. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define fi_ucall_init(vm) ucall_init(vm, NULL)
#else
#define fi_ucall_init(vm) do { } while (0)
#endif

/* -- skip unless kvm-fastinval is the kvm module -------------------------- */

static inline void fi_require_module(void)
{
	struct stat st;

	if (stat(FI_MODE, &st)) {
		ksft_print_msg("%s absent: kvm is not kvm-fastinval\n", FI_MODE);
		ksft_exit_skip("kvm-fastinval is not loaded\n");
	}
	if (access("/dev/kvm", R_OK | W_OK))
		ksft_exit_skip("no /dev/kvm\n");
}

static inline bool fi_shadow_mode(void)
{
	char b[8] = "";
	FILE *f = fopen("/sys/module/kvm_amd/parameters/npt", "r");

	if (!f)
		f = fopen("/sys/module/kvm_intel/parameters/ept", "r");
	if (f) {
		if (!fgets(b, sizeof(b), f))
			b[0] = 0;
		fclose(f);
	}
	return b[0] == 'N' || b[0] == '0';
}

static inline const char *fi_mode_name(void)
{
	return fi_shadow_mode() ? "shadow paging (npt=0)" : "TDP (npt=1)";
}

/* -- files ------------------------------------------------------------------ */

static inline int fi_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return got;
}

/* Write a string in one write(); returns 0 or -errno. */
static inline int fi_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

static inline void fi_param_get(const char *name, char *buf, size_t len)
{
	char path[256];
	int r;

	snprintf(path, sizeof(path), FI_PARAMS "%s", name);
	r = fi_read_file(path, buf, len);
	TEST_ASSERT(r > 0, "reading %s: %s", path, strerror(-r));
	buf[strcspn(buf, "\n")] = 0;
}

static inline int fi_param_set(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), FI_PARAMS "%s", name);
	return fi_write_file(path, val);
}

static inline void fi_param_must_set(const char *name, const char *val)
{
	int r = fi_param_set(name, val);

	TEST_ASSERT(!r, "writing '%s' to %s: %s", val, name, strerror(-r));
}

/* -- debugfs and tracefs ------------------------------------------------------ */

static inline void fi_mount_fs(void)
{
	struct stat st;

	if (stat(FI_DEBUGFS "/kvm", &st))
		mount("debugfs", FI_DEBUGFS, "debugfs", 0, NULL);
	if (stat(FI_TRACEFS "/trace", &st))
		mount("tracefs", FI_TRACEFS, "tracefs", 0, NULL);
}

#define FI_NR_COUNTERS 24
struct fi_counters {
	int n;
	char name[FI_NR_COUNTERS][40];
	uint64_t val[FI_NR_COUNTERS];
};

static inline void fi_vm_dir(struct kvm_vm *vm, char *buf, size_t len)
{
	snprintf(buf, len, "%d-%d", getpid(), vm->fd);
}

/* Read /sys/kernel/debug/kvm/<pid>-<fd>/fastinval; 0 or -errno. */
static inline int fi_counters_read(struct kvm_vm *vm, struct fi_counters *c)
{
	char path[256], name[64], buf[4096], *line, *save = NULL;
	int r;

	fi_vm_dir(vm, name, sizeof(name));
	snprintf(path, sizeof(path), FI_DEBUGFS "/kvm/%s/fastinval", name);
	r = fi_read_file(path, buf, sizeof(buf));
	if (r < 0)
		return r;
	memset(c, 0, sizeof(*c));
	for (line = strtok_r(buf, "\n", &save); line && c->n < FI_NR_COUNTERS;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%39s %" SCNu64, c->name[c->n], &c->val[c->n]) == 2)
			c->n++;
	}
	return 0;
}

static inline uint64_t fi_counter(const struct fi_counters *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return c->val[i];
	TEST_FAIL("no counter '%s' in the debugfs file", name);
	return 0;
}

/* The counter PREFIX_NAME, e.g. ("releases", fi_rel_names[...]). */
static inline uint64_t fi_counter_of(const struct fi_counters *c, const char *prefix,
				     const char *name)
{
	char full[64];

	snprintf(full, sizeof(full), "%s_%s", prefix, name);
	return fi_counter(c, full);
}

/*
 * Enable the kvm_fastinval events, empty the buffer, start tracing;
 * fi_trace_stop() puts back the buffer size, the events' enable and
 * tracing_on as they were.
 */
static char fi_saved_size[32], fi_saved_enable[8], fi_saved_on[8];

/*
 * Size the buffer (KiB per CPU) before tracing starts: a resize stops
 * recording for its duration and drops events without counting them lost.
 */
static inline void fi_trace_start(const char *size_kb)
{
	int r;

	fi_mount_fs();
	if (!fi_saved_size[0]) {
		fi_read_file(FI_TRACEFS "/buffer_size_kb", fi_saved_size, sizeof(fi_saved_size));
		fi_read_file(FI_TRACEFS "/events/kvm_fastinval/enable", fi_saved_enable,
			     sizeof(fi_saved_enable));
		fi_read_file(FI_TRACEFS "/tracing_on", fi_saved_on, sizeof(fi_saved_on));
	}
	r = fi_write_file(FI_TRACEFS "/buffer_size_kb", size_kb);
	TEST_ASSERT(!r, "tracefs buffer_size_kb: %s (tracefs mounted?)", strerror(-r));
	r = fi_write_file(FI_TRACEFS "/events/kvm_fastinval/enable", "1");
	TEST_ASSERT(!r, "enabling the kvm_fastinval events: %s", strerror(-r));
	fi_write_file(FI_TRACEFS "/tracing_on", "1");
	r = fi_write_file(FI_TRACEFS "/trace", "");
	TEST_ASSERT(!r, "resetting the trace buffer: %s", strerror(-r));
}

/*
 * Keep only the events of VMs created by process @pid, as
 * `trace-cmd record -e kvm_fastinval -f 'vm_pid == PID'` would: every
 * event carries vm_pid.
 */
static inline void fi_trace_filter_vm_pid(int pid)
{
	char f[32];
	int r;

	snprintf(f, sizeof(f), "vm_pid == %d", pid);
	r = fi_write_file(FI_TRACEFS "/events/kvm_fastinval/filter", f);
	TEST_ASSERT(!r, "filter '%s' on the kvm_fastinval events: %s", f, strerror(-r));
}

static inline void fi_trace_stop(void)
{
	fi_write_file(FI_TRACEFS "/events/kvm_fastinval/filter", "0");
	/* "X" (some events on) is no value to write back: off then. */
	fi_write_file(FI_TRACEFS "/events/kvm_fastinval/enable",
		      fi_saved_enable[0] == '1' ? "1" : "0");
	if (fi_saved_size[0] && fi_saved_size[0] != '0') {
		fi_saved_size[strcspn(fi_saved_size, " \n")] = 0;	/* "1408 (expanded: ...)" */
		fi_write_file(FI_TRACEFS "/buffer_size_kb", fi_saved_size);
	}
	if (fi_saved_on[0])
		fi_write_file(FI_TRACEFS "/tracing_on", fi_saved_on[0] == '0' ? "0" : "1");
}

/*
 * kvm-fastinval's parameters as they were before the test: fi_params_save()
 * reads them, and at exit they are written back and the trace settings put
 * back (fi_trace_stop()).
 */
static const char * const fi_param_names[] = {
	"fastinval_batch_pages", "fastinval_hold_budget_us", "fastinval_mode",
};
#define FI_NR_PARAMS (sizeof(fi_param_names) / sizeof(fi_param_names[0]))
static char fi_saved_params[FI_NR_PARAMS][32];

static inline void fi_params_restore(void)
{
	int i;

	for (i = 0; i < (int)FI_NR_PARAMS; i++)
		if (fi_saved_params[i][0])
			fi_param_set(fi_param_names[i], fi_saved_params[i]);
	fi_trace_stop();
}

static inline void fi_params_save(void)
{
	int i;

	for (i = 0; i < (int)FI_NR_PARAMS; i++)
		fi_param_get(fi_param_names[i], fi_saved_params[i], sizeof(fi_saved_params[i]));
	atexit(fi_params_restore);
}

/* The module's names table (include/kvm_fastinval_names.h). */
static const char * const fi_reason_names[] = {
	KVM_FASTINVAL_REASONS(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};
static const char * const fi_ph_names[] = {
	KVM_FASTINVAL_PHASES(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};
static const char * const fi_rel_names[] = {
	KVM_FASTINVAL_RELEASES(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};

/*
 * One mmu_lock hold: its longest lock_ns, the pages done in it and the
 * release that ended it (done for the last).
 */
struct fi_hold {
	uint64_t ns, pages;
	int rel;
};

/* One invalidation as seen in the trace. */
struct fi_inval {
	uint64_t id;
	char vm[32];
	char reason[24];
	int vm_pid, stock, tdp_mmu, ended;
	uint64_t used_pages;
	int other_pid;		/* batch/end events whose vm_pid is not the start's */
	/* from the batches */
	uint64_t pages[KVM_FASTINVAL_NR_PHASES], batches[KVM_FASTINVAL_NR_PHASES], rel[KVM_FASTINVAL_NR_RELEASES];
	uint64_t max_lock_ns, nr_batches;
	uint64_t max_phase_ns[KVM_FASTINVAL_NR_PHASES];	/* longest lock_ns by phase */
	/*
	 * Longest lock_ns in the first mmu_lock hold (generation bump, root
	 * invalidation, reload requests) and in the later ones.  A hold ends
	 * at a release other than done, or where lock_ns goes down.
	 */
	uint64_t max_first_ns, max_later_ns, prev_lock_ns;
	int holds;
	/* Every hold, in order: hold[0] is the first. */
	struct fi_hold *hold;
	int nr_hold, cap_hold;
	/* Fewest pages in a zap/commit batch released for the budget. */
	uint64_t min_budget_pages[KVM_FASTINVAL_NR_PHASES];
	/* from the end event */
	uint64_t e_zapped, e_freed, e_tdp, e_batches, e_cont, e_resched,
		 e_budget, e_longest, e_duration;
	char e_reason[24];
};

struct fi_trace {
	int n;
	struct fi_inval *inv;
	int orphans;		/* batch/end events with no start in the buffer */
	int lost;		/* the buffer overflowed */
};

static inline struct fi_inval *fi_find(struct fi_trace *t, uint64_t id)
{
	int i;

	for (i = t->n - 1; i >= 0; i--)
		if (t->inv[i].id == id)
			return &t->inv[i];
	return NULL;
}

static inline int fi_name_idx(const char *s, const char * const *names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/* A batch of @pages ending at @lock_ns, in the hold numbered in->holds. */
static inline void fi_hold_add(struct fi_inval *in, uint64_t lock_ns, uint64_t pages,
			       int rel)
{
	struct fi_hold *h;

	if (in->nr_hold < in->holds) {
		if (in->nr_hold == in->cap_hold) {
			in->cap_hold = in->cap_hold ? 2 * in->cap_hold : 64;
			in->hold = realloc(in->hold, in->cap_hold * sizeof(*in->hold));
			TEST_ASSERT(in->hold, "out of memory");
		}
		in->hold[in->nr_hold++] = (struct fi_hold){ 0, 0, 0 };
	}
	h = &in->hold[in->nr_hold - 1];
	h->ns = lock_ns > h->ns ? lock_ns : h->ns;
	h->pages += pages;
	h->rel = rel;
}

static inline void fi_trace_free(struct fi_trace *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		free(t->inv[i].hold);
	free(t->inv);
	t->inv = NULL;
	t->n = 0;
}

/*
 * Parse a tracefs trace file (@path): the invalidations of the VM named @vm
 * (all if NULL).  fi_trace_free() frees what it allocated.
 */
static inline void fi_trace_read_file(struct fi_trace *t, const char *path,
				      const char *vm)
{
	FILE *f = fopen(path, "r");
	char line[1024], *p, s1[32], s2[32], s3[32];
	struct fi_inval *in;
	uint64_t id, a, b, c, used;
	int cap = 0, x, y, vp;

	TEST_ASSERT(f, "opening %s: %s", path, strerror(errno));
	memset(t, 0, sizeof(*t));
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, "LOST") && line[0] == '#')
			t->lost = 1;
		if (strstr(line, "CPU:") && strstr(line, "LOST"))
			t->lost = 1;
		if ((p = strstr(line, "kvm_fastinval_start: "))) {
			p += strlen("kvm_fastinval_start: ");
			if (sscanf(p, "id=%" SCNu64 " vm=%31s vm_pid=%d reason=%23s gen=%*u used_pages=%" SCNu64 " tdp_mmu=%d stock=%d",
				   &id, s1, &vp, s2, &used, &x, &y) != 7) {
				TEST_FAIL("unparsable start event: %s", line);
			}
			if (vm && strcmp(vm, s1))
				continue;
			if (t->n == cap) {
				cap = cap ? 2 * cap : 64;
				t->inv = realloc(t->inv, cap * sizeof(*t->inv));
				TEST_ASSERT(t->inv, "out of memory");
			}
			in = &t->inv[t->n++];
			memset(in, 0, sizeof(*in));
			for (a = 0; a < KVM_FASTINVAL_NR_PHASES; a++)
				in->min_budget_pages[a] = ~0UL;
			in->id = id;
			in->vm_pid = vp;
			strcpy(in->vm, s1);
			strcpy(in->reason, s2);
			in->tdp_mmu = x;
			in->stock = y;
			in->used_pages = used;
		} else if ((p = strstr(line, "kvm_fastinval_batch: "))) {
			p += strlen("kvm_fastinval_batch: ");
			if (sscanf(p, "id=%" SCNu64 " phase=%31s pages=%" SCNu64 " hold_ns=%" SCNu64 " lock_ns=%" SCNu64 " release=%31s vm_pid=%d",
				   &id, s1, &a, &b, &c, s3, &vp) != 7)
				TEST_FAIL("unparsable batch event: %s", line);
			in = fi_find(t, id);
			if (!in) {
				if (!vm)
					t->orphans++;
				continue;
			}
			in->other_pid += vp != in->vm_pid;
			x = fi_name_idx(s1, fi_ph_names, KVM_FASTINVAL_NR_PHASES);
			y = fi_name_idx(s3, fi_rel_names, KVM_FASTINVAL_NR_RELEASES);
			TEST_ASSERT(x >= 0 && y >= 0, "bad phase/release names: %s", line);
			TEST_ASSERT(!in->ended, "batch event after the end event: %s", line);
			TEST_ASSERT(c >= b, "batch lock_ns < hold_ns: %s", line);
			in->pages[x] += a;
			if (y == KVM_FASTINVAL_REL_BUDGET && a < in->min_budget_pages[x])
				in->min_budget_pages[x] = a;
			in->batches[x]++;
			in->rel[y]++;
			if (!in->holds || (in->nr_batches && c < in->prev_lock_ns))
				in->holds++;
			fi_hold_add(in, c, a, y);
			if (c > in->max_phase_ns[x])
				in->max_phase_ns[x] = c;
			if (in->holds == 1 && c > in->max_first_ns)
				in->max_first_ns = c;
			if (in->holds > 1 && c > in->max_later_ns)
				in->max_later_ns = c;
			in->nr_batches++;
			in->prev_lock_ns = c;
			if (c > in->max_lock_ns)
				in->max_lock_ns = c;
			/* A release other than done ends the hold. */
			if (y != KVM_FASTINVAL_REL_DONE) {
				in->holds++;
				in->prev_lock_ns = 0;
			}
		} else if ((p = strstr(line, "kvm_fastinval_end: "))) {
			p += strlen("kvm_fastinval_end: ");
			if (sscanf(p, "id=%" SCNu64 " reason=%23s", &id, s1) != 2)
				TEST_FAIL("unparsable end event: %s", line);
			in = fi_find(t, id);
			if (!in)
				continue;
			strcpy(in->e_reason, s1);
			p = strstr(p, "zapped=");
			TEST_ASSERT(p && sscanf(p, "zapped=%" SCNu64 " freed=%" SCNu64 " tdp_sptes=%" SCNu64 " batches=%" SCNu64 " contention=%" SCNu64 " resched=%" SCNu64 " budget=%" SCNu64 " longest_hold_ns=%" SCNu64 " duration_ns=%" SCNu64 " vm_pid=%d",
					    &in->e_zapped, &in->e_freed, &in->e_tdp, &in->e_batches,
					    &in->e_cont, &in->e_resched, &in->e_budget,
					    &in->e_longest, &in->e_duration, &vp) == 10,
				    "unparsable end event: %s", line);
			in->other_pid += vp != in->vm_pid;
			in->ended = 1;
		}
	}
	fclose(f);
}

/* fi_trace_read_file() of the top-level tracefs buffer. */
static inline void fi_trace_read(struct fi_trace *t, const char *vm)
{
	fi_trace_read_file(t, FI_TRACEFS "/trace", vm);
}

/*
 * Check the README's invariants of one invalidation: batch sums == end
 * totals, release counts, longest hold == max lock_ns.  Returns the number
 * of failures, printed.
 */
static inline int fi_check_inval(const struct fi_inval *in)
{
	int bad = 0;

#define FI_EQ(a, b) do {						\
	if ((uint64_t)(a) != (uint64_t)(b)) {				\
		ksft_print_msg("id %" PRIu64 " (%s): %s = %" PRIu64 " but %s = %" PRIu64 "\n", \
			       in->id, in->reason, #a, (uint64_t)(a), #b, (uint64_t)(b)); \
		bad++;							\
	}								\
} while (0)
	if (!in->ended) {
		ksft_print_msg("id %" PRIu64 " (%s): no end event\n", in->id, in->reason);
		return 1;
	}
	if (strcmp(in->e_reason, in->reason)) {
		ksft_print_msg("id %" PRIu64 ": start reason %s, end reason %s\n",
			       in->id, in->reason, in->e_reason);
		bad++;
	}
	FI_EQ(in->pages[KVM_FASTINVAL_PHASE_ZAP], in->e_zapped);
	FI_EQ(in->pages[KVM_FASTINVAL_PHASE_COMMIT], in->e_freed);
	FI_EQ(in->pages[KVM_FASTINVAL_PHASE_TDP], in->e_tdp);
	FI_EQ(in->nr_batches, in->e_batches);
	FI_EQ(in->rel[KVM_FASTINVAL_REL_CONTENTION], in->e_cont);
	FI_EQ(in->rel[KVM_FASTINVAL_REL_RESCHED], in->e_resched);
	FI_EQ(in->rel[KVM_FASTINVAL_REL_BUDGET], in->e_budget);
	FI_EQ(in->max_lock_ns, in->e_longest);
	FI_EQ(in->other_pid, 0);
	if (in->nr_batches == 0) {
		ksft_print_msg("id %" PRIu64 ": no batch event\n", in->id);
		bad++;
	}
#undef FI_EQ
	return bad;
}

/*
 * The holds of @in longer than the limit: @first_limit for the first hold
 * (generation bump, root invalidation, reload requests), @later_limit for
 * the others.  Each is printed with the pages it did.
 */
static inline int fi_holds_over(const struct fi_inval *in, uint64_t first_limit,
				uint64_t later_limit)
{
	int i, over = 0;

	for (i = 0; i < in->nr_hold; i++) {
		const struct fi_hold *h = &in->hold[i];
		uint64_t limit = i ? later_limit : first_limit;

		if (h->ns <= limit)
			continue;
		ksft_print_msg("id %" PRIu64 " (%s): hold %d of %d: %.2f ms (limit %.1f), %" PRIu64 " pages\n",
			       in->id, in->reason, i, in->nr_hold, h->ns / 1e6,
			       limit / 1e6, h->pages);
		over++;
	}
	return over;
}

/* -- the kernel log --------------------------------------------------------- */

static const char * const fi_splats[] = {
	"WARNING:", "BUG:", "Oops", "Call Trace", "general protection fault",
	"Kernel panic", "possible circular locking", "lockdep", "UBSAN",
	"KASAN", "refcount_t:", "list_add corruption", "list_del corruption",
	"possible recursive locking", "suspicious RCU usage",
};

static int fi_splat_total;

/* A mark in /dev/kmsg: the test checks the records after it. */
static inline int fi_kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0) {
		ksft_print_msg("cannot open /dev/kmsg (%s): kernel log not checked\n",
			       strerror(errno));
		return -1;
	}
	lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Read the kernel log since the mark; count (and print) splat lines.  Lines
 * matching @expect (may be NULL) are counted into *nexpect.
 */
static inline int fi_kmsg_check(int fd, const char *expect, int *nexpect)
{
	char rec[8192], *msg;
	int bad = 0, i;
	ssize_t n;

	if (nexpect)
		*nexpect = 0;
	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (expect && nexpect && strstr(msg, expect))
			(*nexpect)++;
		for (i = 0; i < (int)(sizeof(fi_splats) / sizeof(fi_splats[0])); i++) {
			if (strstr(msg, fi_splats[i])) {
				ksft_print_msg("kernel log: %s\n", msg);
				bad++;
				break;
			}
		}
	}
	fi_splat_total += bad;
	return bad;
}

/* The result line: splats since the mark, over every fi_kmsg_check(). */
static inline void fi_kmsg_result(int fd)
{
	int bad;

	fi_kmsg_check(fd, NULL, NULL);
	bad = fi_splat_total;

	ksft_test_result(bad == 0, "kernel log has no WARNING/BUG/Oops/lockdep/Call Trace (%d lines)\n", bad);
}

static inline double fi_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#endif
