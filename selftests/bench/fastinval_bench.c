// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_bench: how long a vCPU stalls while KVM invalidates all of a VM's
 * shadow pages (memslot delete / move), on whatever kvm.ko is loaded: the
 * distro's or kvm-fastinval (with its defaults, or fastinval_mode=stock).
 *
 * Built on the distro kernel's own KVM selftest library
 * (selftests/harness/build-upstream-selftests.sh, selftests/bench/Makefile).
 *
 * Workload, per size N: the guest's page tables map a few data pages (-D,
 * round robin) at N guest virtual addresses 2 MiB apart, so each address has
 * its own guest page-table page and, with the shadow MMU (kvm_amd npt=0), its
 * own shadow page: N shadow pages for about N guest pages.  The vCPU touches
 * all N addresses round and round, for the whole run, and records the gap
 * between every two touches (rdtsc).  After an invalidation every touch
 * faults until the vCPU has rebuilt its mappings, and each fault needs
 * mmu_lock: the vCPU runs into the zap's lock holds for as long as the zap
 * lasts, as a guest with a large working set does.
 * Per repetition and operation (memslot delete, then move, of a small dummy
 * slot the guest never uses):
 *   1. rebuilt: wait until the vCPU made a whole pass after the last
 *      invalidation (all shadow pages back);
 *   2. idle window: the longest gap while nothing is invalidated: this VM's
 *      noise floor;
 *   3. invalidation window: the host deletes (or moves) the dummy slot, which
 *      zaps all shadow pages ("fast invalidate"); stall = the longest gap in
 *      the ioctl plus a settle time; p99 = the gap length that 99% of the
 *      ioctl's time was spent in gaps no longer than (time-weighted: the
 *      stall an event arriving at a random moment would see).
 * Counts come from KVM's own binary stats (mmu_cache_miss: shadow pages
 * created while the vCPU maps its addresses again; mmu_shadow_zapped: shadow pages zapped) and, where
 * kvm-fastinval is loaded, from its tracepoints (tracefs instance
 * "fastinval_bench"): zap duration, batches, mmu_lock hold times.
 *
 * Output: one "RESULT key=value ..." line per invalidation, a summary per
 * size ("# ..."), exit 0 (4 = skip: no KVM).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"

/* The kselftests' trace parser (fi_trace_read_file()) and names tables. */
#include "fastinval_util.h"

#define BASE_GVA	0x20000000000ULL	/* 2 TiB: far from the library's maps */
#define STRIDE		(2ULL << 20)		/* one guest page table per address */
#define DUMMY_SLOT	10
#define DUMMY_GPA	0x1000000000ULL		/* 64 GiB, never touched */
#define DUMMY_GPA2	0x1000200000ULL
#define DUMMY_SIZE	(2ULL << 20)
#define NBUCKETS	192			/* log2 buckets of TSC cycles, 4 per octave */
#define MAX_DATA	4096
/* Only kvm-fastinval's kvm has it. */
#define MODE_PARAM	"/sys/module/kvm/parameters/fastinval_mode"

/* Shared with the guest (guest memory, found through addr_gva2hva()). */
struct shared {
	uint64_t n;
	uint64_t passes;		/* whole passes over the N addresses */
	uint64_t epoch, epoch_seen;
	uint64_t max_cyc[64];		/* longest gap of each epoch (mod 64) */
	uint64_t inval;			/* set by the host around the ioctl */
	uint64_t hist[NBUCKETS];	/* cycles spent in gaps of each size while inval is set */
	uint64_t inval_touches;
	uint64_t stop;
};
static struct shared S;

static inline uint64_t rd(volatile uint64_t *p) { return *p; }

static inline unsigned int bucket(uint64_t ns)
{
	unsigned int msb, b;

	if (ns < 4)
		return ns;
	msb = 63 - __builtin_clzll(ns);
	b = 4 * (msb - 1) + ((ns >> (msb - 2)) & 3);
	return b < NBUCKETS ? b : NBUCKETS - 1;
}

/* Upper bound (cycles) of bucket b. */
static uint64_t bucket_hi(unsigned int b)
{
	unsigned int msb, sub;

	if (b < 4)
		return b;
	msb = b / 4 + 1;
	sub = b % 4;
	return ((4ULL + sub + 1) << (msb - 2)) - 1;
}

static void guest_main(void)
{
	volatile struct shared *s = &S;
	uint64_t n = s->n, last, now, gap, max = 0, epoch = 0, i;
	volatile uint64_t sink = 0;

	last = rdtsc();
	for (;;) {
		for (i = 0; i < n; i++) {
			sink += *(volatile uint64_t *)(BASE_GVA + i * STRIDE);
			now = rdtsc();
			gap = now - last;
			last = now;
			/* A gap that spans the host's epoch change counts in the new one. */
			if (s->epoch != epoch) {
				epoch = s->epoch;
				max = 0;
				s->max_cyc[epoch % 64] = 0;
				s->epoch_seen = epoch;
			}
			if (gap > max) {
				max = gap;
				s->max_cyc[epoch % 64] = gap;
			}
			/* Weighted by time: the stall an event arriving at any moment would see. */
			if (s->inval) {
				s->hist[bucket(gap)] += gap;
				s->inval_touches++;
			}
		}
		s->passes++;
		if (s->stop)
			GUEST_DONE();
	}
}

/* ---- host side ---- */

static uint64_t sizes[32] = { 1024, 8192, 32768 };
static int nsizes = 3;
static int reps = 3, ndata = 512, settle_ms = 100, floor_ms = 500, notrace;
static uint64_t tsc_khz;
static const char *variants = "auto";
static const char *label;
static char tracedir[256];
static volatile struct shared *sh;
static struct kvm_vm *vm;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	while (r > 0 && (buf[r - 1] == '\n' || buf[r - 1] == ' '))
		buf[--r] = 0;
	return 0;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val));
	close(fd);
	return r == (ssize_t)strlen(val) ? 0 : -1;
}

/* ---- KVM binary stats (KVM_GET_STATS_FD), by name ---- */
struct stats {
	int fd;
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *desc;
	size_t dsz;
};

static void stats_open(struct stats *st, int vmfd)
{
	st->fd = ioctl(vmfd, KVM_GET_STATS_FD, NULL);
	TEST_ASSERT(st->fd >= 0, "KVM_GET_STATS_FD: %s", strerror(errno));
	TEST_ASSERT(pread(st->fd, &st->hdr, sizeof(st->hdr), 0) == sizeof(st->hdr), "stats header");
	st->dsz = sizeof(struct kvm_stats_desc) + st->hdr.name_size;
	st->desc = calloc(st->hdr.num_desc, st->dsz);
	TEST_ASSERT(pread(st->fd, st->desc, st->hdr.num_desc * st->dsz, st->hdr.desc_offset) ==
		    (ssize_t)(st->hdr.num_desc * st->dsz), "stats descriptors");
}

static int64_t stat_get(struct stats *st, const char *name)
{
	uint32_t i;

	for (i = 0; i < st->hdr.num_desc; i++) {
		struct kvm_stats_desc *d = (void *)((char *)st->desc + i * st->dsz);
		uint64_t v;

		if (strcmp(d->name, name))
			continue;
		if (pread(st->fd, &v, sizeof(v), st->hdr.data_offset + d->offset) != sizeof(v))
			return -1;
		return v;
	}
	return -1;
}

static void stats_close(struct stats *st)
{
	close(st->fd);
	free(st->desc);
}

/* ---- kvm-fastinval tracepoints, in a tracefs instance of our own ---- */
static int trace_setup(void)
{
	char p[320];

	if (notrace || access("/sys/kernel/tracing/events/kvm_fastinval", F_OK))
		return 0;
	snprintf(tracedir, sizeof(tracedir), "/sys/kernel/tracing/instances/fastinval_bench");
	mkdir(tracedir, 0755);
	snprintf(p, sizeof(p), "%s/buffer_size_kb", tracedir);
	write_str(p, "8192");
	snprintf(p, sizeof(p), "%s/events/kvm_fastinval/enable", tracedir);
	if (write_str(p, "1")) {
		tracedir[0] = 0;
		return 0;
	}
	return 1;
}

/* Our events on or off: off, the hooks run as without a trace consumer. */
static void trace_enable(int on)
{
	char p[320];

	if (!tracedir[0])
		return;
	snprintf(p, sizeof(p), "%s/events/kvm_fastinval/enable", tracedir);
	write_str(p, on ? "1" : "0");
}

static void trace_clear(void)
{
	char p[320];

	if (!tracedir[0])
		return;
	snprintf(p, sizeof(p), "%s/trace", tracedir);
	write_str(p, "");
}

struct tr {
	int found;
	uint64_t used, zapped, freed, tdp, batches, longest, duration;
	uint64_t holds, hold_sum, zap_max, commit_max, tdp_max;
	uint64_t contention, resched, budget;
	/*
	 * The longest hold's number (1 = the first) and pages, against the
	 * mean pages of the holds the budget ended: a long hold with fewer
	 * pages than those was the CPU away from the zap, not the zap.
	 */
	uint64_t long_ns, long_nr, long_pages, budget_pages, budget_holds;
};

/* Sum up the memslot invalidations of this process's VM in the buffer. */
static void trace_read(struct tr *t)
{
	struct fi_trace ft;
	char p[320];
	int i, j;

	memset(t, 0, sizeof(*t));
	if (!tracedir[0])
		return;
	snprintf(p, sizeof(p), "%s/trace", tracedir);
	fi_trace_read_file(&ft, p, NULL);
	for (i = 0; i < ft.n; i++) {
		const struct fi_inval *in = &ft.inv[i];

		if (in->vm_pid != getpid() || strncmp(in->reason, "memslot_", 8))
			continue;
		t->found++;
		t->used += in->used_pages;
		t->zap_max = max(t->zap_max, in->max_phase_ns[KVM_FASTINVAL_PHASE_ZAP]);
		t->commit_max = max(t->commit_max, in->max_phase_ns[KVM_FASTINVAL_PHASE_COMMIT]);
		t->tdp_max = max(t->tdp_max, in->max_phase_ns[KVM_FASTINVAL_PHASE_TDP]);
		for (j = 0; j < in->nr_hold; j++) {
			const struct fi_hold *h = &in->hold[j];

			t->holds++;
			t->hold_sum += h->ns;
			if (h->ns > t->long_ns) {
				t->long_ns = h->ns;
				t->long_nr = j + 1;
				t->long_pages = h->pages;
			}
			if (h->rel == KVM_FASTINVAL_REL_BUDGET) {
				t->budget_pages += h->pages;
				t->budget_holds++;
			}
		}
		if (!in->ended)
			continue;
		t->zapped += in->e_zapped;
		t->freed += in->e_freed;
		t->tdp += in->e_tdp;
		t->batches += in->e_batches;
		t->contention += in->e_cont;
		t->resched += in->e_resched;
		t->budget += in->e_budget;
		t->longest = max(t->longest, in->e_longest);
		t->duration += in->e_duration;
	}
	fi_trace_free(&ft);
}

/* ---- the run ---- */

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_DONE:
			return NULL;
		case UCALL_ABORT:
			fprintf(stderr, "guest assertion failed\n");
			exit(1);
		default:
			fprintf(stderr, "unexpected exit %u (%s)\n", vcpu->run->exit_reason,
				exit_reason_str(vcpu->run->exit_reason));
			exit(1);
		}
	}
}

static void set_dummy(uint64_t gpa, uint64_t size, void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = DUMMY_SLOT, .guest_phys_addr = gpa, .memory_size = size,
		.userspace_addr = (uint64_t)hva,
	};
	int ret = ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);

	TEST_ASSERT(!ret, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
}

static int wait_for(volatile uint64_t *p, uint64_t v, int secs)
{
	uint64_t end = now_ns() + secs * 1000000000ULL;

	while (rd(p) != v) {
		if (now_ns() > end)
			return -1;
		usleep(200);
	}
	return 0;
}

static uint64_t cyc2ns(uint64_t cyc)
{
	return (unsigned __int128)cyc * 1000000 / tsc_khz;
}

/*
 * Wait until the guest has made two more whole passes: the first may have
 * begun before the last invalidation, the second is over all N addresses
 * after it.
 */
static uint64_t wait_rebuilt(void)
{
	uint64_t p = rd(&sh->passes), end = now_ns() + 900 * 1000000000ULL;

	while (rd(&sh->passes) < p + 2) {
		TEST_ASSERT(now_ns() < end, "the guest made no whole pass in 900 s");
		usleep(1000);
	}
	return rd(&sh->passes);
}

/* Start epoch e+1, wait until the guest has seen it, return epoch e's max. */
static uint64_t end_epoch(void)
{
	uint64_t e = rd(&sh->epoch);

	sh->epoch = e + 1;
	if (wait_for(&sh->epoch_seen, e + 1, 60))
		fprintf(stderr, "# warning: guest did not see epoch %" PRIu64 "\n", e + 1);
	return cyc2ns(sh->max_cyc[e % 64]);
}

static void hist_snap(uint64_t *h)
{
	int i;

	for (i = 0; i < NBUCKETS; i++)
		h[i] = rd(&sh->hist[i]);
}

static uint64_t hist_count(const uint64_t *a, const uint64_t *b)
{
	uint64_t tot = 0;
	int i;

	for (i = 0; i < NBUCKETS; i++)
		tot += b[i] - a[i];
	return tot;
}

/*
 * Percentile (ns, the bucket's upper bound) of the gaps from a to b, weighted
 * by their length: pct% of the time went to gaps no longer than that.
 */
static uint64_t hist_pct(const uint64_t *a, const uint64_t *b, double pct)
{
	uint64_t tot = hist_count(a, b), acc = 0, want;
	int i;

	if (!tot)
		return 0;
	want = (uint64_t)(tot * pct / 100.0 + 0.999999);
	for (i = 0; i < NBUCKETS; i++) {
		acc += b[i] - a[i];
		if (acc >= want)
			return cyc2ns(bucket_hi(i));
	}
	return cyc2ns(bucket_hi(NBUCKETS - 1));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void run_size(const char *variant, const char *mmu, uint64_t n)
{
	struct kvm_vcpu *vcpu;
	struct stats st;
	pthread_t thr;
	uint64_t data;
	void *dummy;
	uint64_t i, t0, t1, tp, nd = (uint64_t)ndata < n ? (uint64_t)ndata : n;
	uint64_t pt_pages = n + n / 512 + nd + 64;
	uint64_t stall[64], floor[64], ioctl_ns[64], p99[64];
	int ninv = 0, r, op, ret;

	/*
	 * The library sizes memslot 0 (where virt_pg_map() takes page tables)
	 * for "extra" pages living elsewhere: 2 page-table pages per 512 of
	 * them.  Ask for enough to cover our page tables.
	 */
	vm = __vm_create_with_one_vcpu(&vcpu, (pt_pages + 256) * 256, guest_main);
	/* Room for every shadow page: the default is 2% of guest memory. */
	ret = ioctl(vm->fd, KVM_SET_NR_MMU_PAGES, (unsigned long)(2 * n + 8192));
	TEST_ASSERT(!ret, "KVM_SET_NR_MMU_PAGES: %s", strerror(errno));
	/*
	 * A few data pages, not one: a page mapped at N addresses has an rmap
	 * chain N long, which every zap would pay for.
	 */
	data = vm_phy_pages_alloc(vm, nd, 0x100000, 0);
	for (i = 0; i < n; i++)
		virt_pg_map(vm, BASE_GVA + i * STRIDE, data + (i % nd) * vm->page_size);
	sh = addr_gva2hva(vm, (uint64_t)&S);
	memset((void *)sh, 0, sizeof(*sh));
	sh->n = n;
	ret = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, NULL);
	TEST_ASSERT(ret > 0, "KVM_GET_TSC_KHZ: %s", strerror(errno));
	tsc_khz = ret;
	dummy = mmap(NULL, DUMMY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(dummy != MAP_FAILED, "mmap");
	set_dummy(DUMMY_GPA, DUMMY_SIZE, dummy);
	stats_open(&st, vm->fd);
	pthread_create(&thr, NULL, vcpu_thread, vcpu);

	for (r = 0; r < reps; r++) {
		for (op = 0; op < 2; op++) {
			uint64_t h0[NBUCKETS], h1[NBUCKETS];
			int64_t miss0, miss1, zap0, zap1, p4k;
			uint64_t fl, sl, pop_ns, win_ns, tch;
			struct tr t;

			/* 1. all N mapped again (the first time: populated) */
			miss0 = stat_get(&st, "mmu_cache_miss");
			tp = now_ns();
			wait_rebuilt();
			pop_ns = now_ns() - tp;
			miss1 = stat_get(&st, "mmu_cache_miss");
			p4k = stat_get(&st, "pages_4k");
			end_epoch();

			/* 2. idle window: the floor */
			sleep_ms(floor_ms);
			fl = end_epoch();

			/* 3. invalidation window */
			trace_clear();
			zap0 = stat_get(&st, "mmu_shadow_zapped");
			hist_snap(h0);
			tch = rd(&sh->inval_touches);
			sh->inval = 1;
			t0 = now_ns();
			if (op == 0)
				set_dummy(DUMMY_GPA, 0, dummy);
			else
				set_dummy(DUMMY_GPA2, DUMMY_SIZE, dummy);
			t1 = now_ns();
			sh->inval = 0;
			zap1 = stat_get(&st, "mmu_shadow_zapped");
			hist_snap(h1);
			tch = rd(&sh->inval_touches) - tch;
			sleep_ms(settle_ms);
			sl = end_epoch();
			win_ns = now_ns() - t0;
			trace_read(&t);
			/* Back where it was: an add (no invalidation) or a second move. */
			set_dummy(DUMMY_GPA, DUMMY_SIZE, dummy);

			printf("RESULT label=%s variant=%s mmu=%s size=%" PRIu64 " data_pages=%" PRIu64
			       " rep=%d op=%s sp_created=%" PRId64 " pages_4k=%" PRId64 " rebuild_ms=%.1f"
			       " zapped=%" PRId64 " ioctl_us=%.0f window_ms=%.0f"
			       " stall_us=%.0f p99_us=%.0f touches=%" PRIu64 " floor_us=%.0f attrib_us=%.0f"
			       " traced=%d used_pages=%" PRIu64 " tr_zapped=%" PRIu64 " tr_freed=%" PRIu64
			       " tr_tdp=%" PRIu64 " zap_us=%.0f batches=%" PRIu64 " holds=%" PRIu64
			       " hold_max_us=%.0f hold_mean_us=%.0f zap_hold_max_us=%.0f commit_hold_max_us=%.0f"
			       " tdp_hold_max_us=%.0f rel_contention=%" PRIu64 " rel_resched=%" PRIu64
			       " rel_budget=%" PRIu64 " longest_hold_nr=%" PRIu64
			       " longest_hold_pages=%" PRIu64 " budget_hold_pages=%.0f\n",
			       label ? label : variant, variant, mmu, n, nd, r, op ? "move" : "delete",
			       miss1 - miss0, p4k, pop_ns / 1e6,
			       zap1 - zap0, (t1 - t0) / 1e3, win_ns / 1e6,
			       sl / 1e3, hist_pct(h0, h1, 99) / 1e3, tch, fl / 1e3,
			       (sl > fl ? sl - fl : 0) / 1e3,
			       t.found, t.used, t.zapped, t.freed, t.tdp, t.duration / 1e3, t.batches,
			       t.holds, t.longest / 1e3, t.holds ? t.hold_sum / 1e3 / t.holds : 0,
			       t.zap_max / 1e3, t.commit_max / 1e3, t.tdp_max / 1e3,
			       t.contention, t.resched, t.budget, t.long_nr, t.long_pages,
			       t.budget_holds ? (double)t.budget_pages / t.budget_holds : 0);
			fflush(stdout);
			if (ninv < 64) {
				stall[ninv] = sl;
				floor[ninv] = fl;
				ioctl_ns[ninv] = t1 - t0;
				p99[ninv] = hist_pct(h0, h1, 99);
				ninv++;
			}
		}
	}
	sh->stop = 1;
	pthread_join(thr, NULL);
	stats_close(&st);
	kvm_vm_free(vm);
	munmap(dummy, DUMMY_SIZE);

	qsort(stall, ninv, 8, cmp_u64);
	qsort(floor, ninv, 8, cmp_u64);
	qsort(ioctl_ns, ninv, 8, cmp_u64);
	qsort(p99, ninv, 8, cmp_u64);
	printf("# %s %s size=%" PRIu64 ": %d invalidations: stall median %.1f ms (min %.1f, max %.1f),"
	       " p99 median %.1f ms, floor median %.1f ms, ioctl median %.1f ms (min %.1f, max %.1f)\n",
	       label ? label : variant, mmu, n, ninv, stall[ninv / 2] / 1e6, stall[0] / 1e6,
	       stall[ninv - 1] / 1e6, p99[ninv / 2] / 1e6, floor[ninv / 2] / 1e6,
	       ioctl_ns[ninv / 2] / 1e6, ioctl_ns[0] / 1e6, ioctl_ns[ninv - 1] / 1e6);
	fflush(stdout);
}

static void help(const char *name)
{
	printf("usage: %s [-h] [-s SIZES] [-r REPS] [-D DATA] [-w SETTLE_MS] [-f FLOOR_MS]\n"
	       "          [-V VARIANTS] [-l LABEL] [-T]\n"
	       "Stall of a vCPU while KVM invalidates all shadow pages (memslot delete and\n"
	       "move of a dummy slot), with N guest page tables aliasing one data page.\n"
	       "  -s SIZES    comma-separated numbers of aliased guest page tables (shadow\n"
	       "              pages with npt=0); default 1024,8192,32768\n"
	       "  -r REPS     repetitions per size, each a delete and a move (default 3)\n"
	       "  -D DATA     data pages the N addresses map, round robin (default 512)\n"
	       "  -w MS       settle time after the ioctl, in the window (default 100)\n"
	       "  -f MS       idle (floor) window (default 500)\n"
	       "  -V LIST     kvm-fastinval only: 'default', 'stock' (fastinval_mode=stock),\n"
	       "              'stock-untraced' (the same, our events off), comma-separated;\n"
	       "              default 'auto' = default,stock,stock-untraced when\n"
	       "              kvm-fastinval is loaded, else the stock kvm.ko alone\n"
	       "  -l LABEL    label of the RESULT lines (default: the variant)\n"
	       "  -T          no tracing, even where kvm-fastinval's events exist\n"
	       "Prints one RESULT line per invalidation and a summary per size.\n", name);
}

int main(int argc, char *argv[])
{
	char npt[8] = "", *tok, *save, vlist[64];
	const char *mmu;
	int opt, i, fastinval;

	while ((opt = getopt(argc, argv, "hs:r:D:w:f:V:l:T")) != -1) {
		switch (opt) {
		case 's':
			nsizes = 0;
			for (tok = strtok_r(optarg, ",", &save); tok && nsizes < 32;
			     tok = strtok_r(NULL, ",", &save))
				sizes[nsizes++] = strtoull(tok, NULL, 0);
			break;
		case 'r': reps = atoi(optarg); break;
		case 'D': ndata = atoi(optarg); break;
		case 'T': notrace = 1; break;
		case 'w': settle_ms = atoi(optarg); break;
		case 'f': floor_ms = atoi(optarg); break;
		case 'V': variants = optarg; break;
		case 'l': label = optarg; break;
		case 'h':
			help(argv[0]);
			return 0;
		default:
			help(argv[0]);
			return 1;
		}
	}
	if (reps < 1 || reps > 32 || ndata < 1 || ndata > MAX_DATA || !nsizes) {
		help(argv[0]);
		return 1;
	}
	for (i = 0; i < nsizes; i++)
		if (sizes[i] < 1 || sizes[i] > 1000000) {
			fprintf(stderr, "size %" PRIu64 " out of range 1..1000000\n", sizes[i]);
			return 1;
		}
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("# SKIP: no /dev/kvm\n");
		return 4;
	}
	read_str("/sys/module/kvm_amd/parameters/npt", npt, sizeof(npt));
	if (!npt[0])
		read_str("/sys/module/kvm_intel/parameters/ept", npt, sizeof(npt));
	mmu = npt[0] == 'N' || npt[0] == '0' ? "shadow" : "tdp";
	fastinval = !access(MODE_PARAM, F_OK);
	if (!strcmp(variants, "auto"))
		variants = fastinval ? "default,stock,stock-untraced" : "stock-kvm";
	trace_setup();
	{
		struct utsname u;

		uname(&u);
		printf("# fastinval_bench: kernel %s, %s MMU, module %s, tracing %s, sizes",
		       u.release, mmu, fastinval ? "kvm (kvm-fastinval)" : "kvm (stock)",
		       tracedir[0] ? "on" : "off");
		for (i = 0; i < nsizes; i++)
			printf(" %" PRIu64, sizes[i]);
		printf(", %d reps, %d data pages, settle %d ms, floor %d ms\n", reps, ndata, settle_ms,
		       floor_ms);
	}
	snprintf(vlist, sizeof(vlist), "%s", variants);
	for (tok = strtok_r(vlist, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int untraced = !strcmp(tok, "stock-untraced");
		const char *zs = NULL;

		if (!strcmp(tok, "default"))
			zs = "bounded";
		else if ((!strcmp(tok, "stock") || untraced) && fastinval)
			zs = "stock";
		else if (strcmp(tok, "stock-kvm")) {
			fprintf(stderr, "unknown variant '%s' (or kvm-fastinval not loaded)\n", tok);
			return 1;
		}
		if (zs && write_str(MODE_PARAM, zs)) {
			fprintf(stderr, "cannot set fastinval_mode=%s\n", zs);
			return 1;
		}
		trace_enable(!untraced);
		for (i = 0; i < nsizes; i++)
			run_size(!strcmp(tok, "default") ? "ours" : !strcmp(tok, "stock") ? "ours-stock-mode" :
				 untraced ? "ours-stock-mode-untraced" : "stock", mmu, sizes[i]);
	}
	if (fastinval)
		write_str(MODE_PARAM, "bounded");
	if (tracedir[0]) {
		char p[320];

		snprintf(p, sizeof(p), "%s/events/kvm_fastinval/enable", tracedir);
		write_str(p, "0");
		rmdir(tracedir);
	}
	return 0;
}
