// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-fastinval-stat: summary of a trace.dat recorded with
 *   trace-cmd record -e kvm_fastinval ...
 * in the spirit of `perf kvm stat`: one line per invalidation (VM, reason,
 * shadow pages, batches, longest mmu_lock hold, duration), then a histogram
 * of mmu_lock hold times (one sample per hold: the lock_ns of each batch
 * that released the lock, and the last batch of each invalidation).
 *
 *   kvm-fastinval-stat [-h] [-q] [-i] trace.dat
 *     -q  no per-invalidation lines (totals and histogram only)
 *     -i  skip invalidations whose start event is not in the file
 *
 * Exit: 0, 1 when the file is not a trace.dat or has no kvm_fastinval
 * events, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-cmd.h>

#define SYS "kvm_fastinval"
#define NHIST 24		/* log2 buckets of microseconds: <1, 1-2, ... */

struct inval {
	unsigned long long id, used, zapped, freed, tdp, batches, longest, duration;
	unsigned long long ts;
	char vm[32], reason[24];
	unsigned long long last_lock;	/* lock_ns of the last batch, if "done" */
	int started, ended, tdp_mmu, stock;
	struct inval *next;
};

static struct tep_event *ev_start, *ev_batch, *ev_end;
static struct inval *head, **tailp = &head;
static unsigned long long hist[NHIST], holds, nbatch, hold_max;
static unsigned long long nstart, nend;

static struct inval *find(unsigned long long id)
{
	struct inval *v;

	for (v = head; v; v = v->next)
		if (v->id == id)
			return v;
	v = calloc(1, sizeof(*v));
	if (!v) {
		perror("calloc");
		exit(1);
	}
	v->id = id;
	strcpy(v->reason, "?");
	strcpy(v->vm, "?");
	*tailp = v;
	tailp = &v->next;
	return v;
}

static unsigned long long val(struct tep_event *e, struct tep_record *r, const char *name)
{
	unsigned long long v = 0;

	tep_get_field_val(NULL, e, name, r, &v, 0);
	return v;
}

/* The printed value of a field (symbolic names as the kernel prints them). */
static void printed(struct tep_handle *tep, struct tep_record *r, const char *name,
		    char *out, size_t len)
{
	struct trace_seq s;
	char key[40], *p;
	size_t n;

	trace_seq_init(&s);
	tep_print_event(tep, &s, r, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	snprintf(key, sizeof(key), "%s=", name);
	p = s.buffer;
	out[0] = 0;
	while ((p = strstr(p, key))) {
		if (p == s.buffer || p[-1] == ' ') {
			p += strlen(key);
			n = strcspn(p, " \n");
			if (n >= len)
				n = len - 1;
			memcpy(out, p, n);
			out[n] = 0;
			break;
		}
		p++;
	}
	trace_seq_destroy(&s);
}

static void hold(unsigned long long ns)
{
	unsigned long long us = ns / 1000;
	int b = 0;

	while (us && b < NHIST - 1) {
		us >>= 1;
		b++;
	}
	hist[b]++;
	holds++;
	if (ns > hold_max)
		hold_max = ns;
}

static int on_record(struct tracecmd_input *h, struct tep_record *r, int cpu, void *data)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	int type = tep_data_type(tep, r);
	struct inval *v;
	char rel[16];

	(void)cpu;
	(void)data;
	if (ev_start && type == ev_start->id) {
		int len = 0;
		char *vm = tep_get_field_raw(NULL, ev_start, "vm", r, &len, 0);

		v = find(val(ev_start, r, "id"));
		v->started = 1;
		v->ts = r->ts;
		if (vm && len > 0)
			snprintf(v->vm, sizeof(v->vm), "%.*s", len, vm);
		printed(tep, r, "reason", v->reason, sizeof(v->reason));
		v->used = val(ev_start, r, "used_pages");
		v->tdp_mmu = val(ev_start, r, "tdp_mmu");
		v->stock = val(ev_start, r, "stock");
		nstart++;
	} else if (ev_batch && type == ev_batch->id) {
		nbatch++;
		printed(tep, r, "release", rel, sizeof(rel));
		v = find(val(ev_batch, r, "id"));
		v->last_lock = 0;
		if (strcmp(rel, "done"))
			hold(val(ev_batch, r, "lock_ns"));
		else	/* kept for the next phase, or released by the caller */
			v->last_lock = val(ev_batch, r, "lock_ns");
	} else if (ev_end && type == ev_end->id) {
		v = find(val(ev_end, r, "id"));
		/* The final hold ends with the last ("done") batch. */
		if (v->last_lock)
			hold(v->last_lock);
		v->ended = 1;
		if (!v->started)
			printed(tep, r, "reason", v->reason, sizeof(v->reason));
		v->zapped = val(ev_end, r, "zapped");
		v->freed = val(ev_end, r, "freed");
		v->tdp = val(ev_end, r, "tdp_sptes");
		v->batches = val(ev_end, r, "batches");
		v->longest = val(ev_end, r, "longest_hold_ns");
		v->duration = val(ev_end, r, "duration_ns");
		nend++;
	}
	return 0;
}

static void usage(FILE *f, const char *name)
{
	fprintf(f, "usage: %s [-h] [-q] [-i] trace.dat\n"
		"Summarizes a trace of kvm-fastinval's events (trace-cmd record -e kvm_fastinval):\n"
		"one line per invalidation and a histogram of mmu_lock hold times.\n"
		"  -q  totals and histogram only\n"
		"  -i  only invalidations whose start event is in the file\n", name);
}

int main(int argc, char *argv[])
{
	static const char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	struct tracecmd_input *h;
	struct tep_handle *tep;
	int opt, quiet = 0, complete = 0, b, top;
	char buf[sizeof(magic)];
	const char *file;
	struct inval *v;
	FILE *f;

	while ((opt = getopt(argc, argv, "hqi")) != -1) {
		switch (opt) {
		case 'h': usage(stdout, argv[0]); return 0;
		case 'q': quiet = 1; break;
		case 'i': complete = 1; break;
		default: usage(stderr, argv[0]); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, argv[0]);
		return 2;
	}
	file = argv[optind];
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "kvm-fastinval-stat: %s: %s\n", file, strerror(errno));
		return 1;
	}
	if (fread(buf, 1, sizeof(buf), f) != sizeof(buf) || memcmp(buf, magic, sizeof(magic))) {
		fclose(f);
		fprintf(stderr, "kvm-fastinval-stat: %s: not a trace-cmd trace.dat file "
			"(make one with: trace-cmd record -e kvm_fastinval ...)\n", file);
		return 1;
	}
	fclose(f);
	h = tracecmd_open(file, 0);
	if (!h) {
		fprintf(stderr, "kvm-fastinval-stat: %s: cannot read this trace.dat (corrupt or truncated?)\n", file);
		return 1;
	}
	tep = tracecmd_get_tep(h);
	ev_start = tep_find_event_by_name(tep, SYS, "kvm_fastinval_start");
	ev_batch = tep_find_event_by_name(tep, SYS, "kvm_fastinval_batch");
	ev_end = tep_find_event_by_name(tep, SYS, "kvm_fastinval_end");
	if (!ev_start && !ev_batch && !ev_end) {
		fprintf(stderr, "kvm-fastinval-stat: %s: no kvm_fastinval events in this trace "
			"(record with: trace-cmd record -e kvm_fastinval ...)\n", file);
		tracecmd_close(h);
		return 1;
	}
	tracecmd_iterate_events(h, NULL, 0, on_record, NULL);
	tracecmd_close(h);
	if (!nend) {
		fprintf(stderr, "kvm-fastinval-stat: %s: the kvm_fastinval events are known but none "
			"was recorded (no invalidation ended during the trace)\n", file);
		return 1;
	}

	if (!quiet)
		printf("%-6s %-14s %-15s %5s %8s %8s %8s %8s %12s %12s\n", "id", "vm", "reason",
		       "mode", "used", "zapped", "tdp", "batches", "longest_us", "duration_us");
	for (v = head; v; v = v->next) {
		if (!v->ended || (complete && !v->started))
			continue;
		if (!quiet)
			printf("%-6llu %-14s %-15s %5s %8llu %8llu %8llu %8llu %12.1f %12.1f\n",
			       v->id, v->vm, v->reason,
			       !v->started ? "?" : v->stock ? "stock" : "ours",
			       v->used, v->zapped, v->tdp, v->batches, v->longest / 1e3,
			       v->duration / 1e3);
	}
	printf("# %llu invalidations (%llu start, %llu end events), %llu batches, %llu mmu_lock holds,"
	       " longest %.1f us\n", nend, nstart, nend, nbatch, holds, hold_max / 1e3);
	printf("# mmu_lock hold time histogram (one sample per hold):\n");
	for (top = NHIST - 1; top > 0 && !hist[top]; top--)
		;
	for (b = 0; b <= top; b++) {
		unsigned long long lo = b ? 1ULL << (b - 1) : 0, hi = 1ULL << b;
		unsigned long long m = 0;
		int i, w;

		for (i = 0; i < NHIST; i++)
			if (hist[i] > m)
				m = hist[i];
		w = m ? (int)(hist[b] * 50 / m) : 0;
		printf("  %8llu - %8llu us %8llu |%.*s\n", lo, hi, hist[b], w,
		       "**************************************************");
	}
	return 0;
}
