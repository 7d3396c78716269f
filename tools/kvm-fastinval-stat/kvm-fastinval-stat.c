// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-fastinval-stat: summary of trace.dat files recorded with
 *   trace-cmd record -e kvm_fastinval ...
 * in the spirit of `perf kvm stat`: one line per invalidation (VM, reason,
 * shadow pages, batches, longest mmu_lock hold, duration), then a histogram
 * of mmu_lock hold times (one sample per hold: the lock_ns of each batch
 * that released the lock, and the last batch of each invalidation).
 *
 * Fields are read from the events, names (reason, release) from the
 * trace's own event formats: the module's table, whatever its version.
 *
 * Exit: 0; 1 when a file cannot be read, is not a trace.dat or has no
 * kvm_fastinval events; 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include "kvm_fastinval_names.h"

static const char * const reason_names[] = {
	KVM_FASTINVAL_REASONS(KVM_FASTINVAL_NAME, KVM_FASTINVAL_NAME)
};

#ifndef VERSION
#define VERSION "unknown"
#endif
#define SYS "kvm_fastinval"
#define NHIST 24		/* log2 buckets of microseconds: <1, 1-2, ... */

struct inval {
	unsigned long long id, used, zapped, freed, tdp, batches, longest, duration;
	unsigned long long ts;
	const char *file;
	char vm[32], reason[24];
	unsigned long long last_lock;	/* lock_ns of the last batch, if "done" */
	unsigned long long hist[NHIST], holds, hold_max;
	int started, ended, tdp_mmu, stock;
	struct inval *next;
};

static struct tep_event *ev_start, *ev_batch, *ev_end;
static struct inval *head, **tailp = &head;
static const char *cur_file;
static unsigned long long nbatch, nstart, nend;

static struct inval *find(unsigned long long id)
{
	struct inval *v;

	for (v = head; v; v = v->next)
		if (v->id == id && v->file == cur_file)
			return v;
	v = calloc(1, sizeof(*v));
	if (!v) {
		perror("calloc");
		exit(1);
	}
	v->id = id;
	v->file = cur_file;
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

/*
 * The name of value @v of @field, from the __print_symbolic() table of
 * @e's format; the number when the table has none.
 */
static void symbol(struct tep_event *e, const char *field, unsigned long long v,
		   char *out, size_t len)
{
	struct tep_print_arg *a;
	struct tep_print_flag_sym *sym;

	for (a = e->print_fmt.args; a; a = a->next) {
		if (a->type != TEP_PRINT_SYMBOL || a->symbol.field->type != TEP_PRINT_FIELD ||
		    strcmp(a->symbol.field->field.name, field))
			continue;
		for (sym = a->symbol.symbols; sym; sym = sym->next)
			if (strtoull(sym->value, NULL, 0) == v) {
				snprintf(out, len, "%s", sym->str);
				return;
			}
	}
	snprintf(out, len, "%llu", v);
}

static void hold(struct inval *v, unsigned long long ns)
{
	unsigned long long us = ns / 1000;
	int b = 0;

	while (us && b < NHIST - 1) {
		us >>= 1;
		b++;
	}
	v->hist[b]++;
	v->holds++;
	if (ns > v->hold_max)
		v->hold_max = ns;
}

static int on_record(struct tracecmd_input *h, struct tep_record *r, int cpu, void *data)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	int type = tep_data_type(tep, r);
	struct inval *v;

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
		symbol(ev_start, "reason", val(ev_start, r, "reason"), v->reason,
		       sizeof(v->reason));
		v->used = val(ev_start, r, "used_pages");
		v->tdp_mmu = val(ev_start, r, "tdp_mmu");
		v->stock = val(ev_start, r, "stock");
		nstart++;
	} else if (ev_batch && type == ev_batch->id) {
		nbatch++;
		v = find(val(ev_batch, r, "id"));
		v->last_lock = 0;
		if (val(ev_batch, r, "release") != KVM_FASTINVAL_REL_DONE)
			hold(v, val(ev_batch, r, "lock_ns"));
		else	/* kept for the next phase, or released by the caller */
			v->last_lock = val(ev_batch, r, "lock_ns");
	} else if (ev_end && type == ev_end->id) {
		v = find(val(ev_end, r, "id"));
		/* The final hold ends with the last ("done") batch. */
		if (v->last_lock)
			hold(v, v->last_lock);
		v->ended = 1;
		if (!v->started)
			symbol(ev_end, "reason", val(ev_end, r, "reason"), v->reason,
			       sizeof(v->reason));
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

static void usage(FILE *f)
{
	fprintf(f, "usage: kvm-fastinval-stat [OPTIONS] [-i FILE]... [FILE]...\n"
		"Summarizes traces of kvm-fastinval's events (trace-cmd record -e kvm_fastinval):\n"
		"one line per invalidation and a histogram of mmu_lock hold times.\n"
		"  -i, --input FILE   a trace.dat to read (repeatable; default: trace.dat)\n"
		"      --vm VM        only the VM VM: its debugfs name <pid>-<fd>, or <pid>\n"
		"      --reason R     only invalidations for reason R (memslot_delete, ...)\n"
		"  -c, --complete     only invalidations whose start event is in the file\n"
		"  -q, --quiet        totals and histogram only\n"
		"  -h, --help         this help\n"
		"  -V, --version      the version\n"
		"Filters need the start event (the VM and reason are on it), so they imply -c.\n");
}

/* Whether @v is one the filters let through. */
static int wanted(const struct inval *v, const char *vm, const char *reason, int complete)
{
	size_t n;

	if (!v->ended || (complete && !v->started))
		return 0;
	if (reason && strcmp(v->reason, reason))
		return 0;
	if (vm) {
		n = strlen(vm);
		if (strcmp(v->vm, vm) && !(strncmp(v->vm, vm, n) == 0 && v->vm[n] == '-'))
			return 0;
	}
	return 1;
}

/* Read one trace.dat into the list; 0, or 1 with a message. */
static int read_trace(const char *file)
{
	static const char magic[] = { 0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g' };
	struct tracecmd_input *h;
	struct tep_handle *tep;
	char buf[sizeof(magic)];
	unsigned long long ended = nend;
	FILE *f;

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
	cur_file = file;
	tracecmd_iterate_events(h, NULL, 0, on_record, NULL);
	tracecmd_close(h);
	if (nend == ended) {
		fprintf(stderr, "kvm-fastinval-stat: %s: the kvm_fastinval events are known but none "
			"was recorded (no invalidation ended during the trace)\n", file);
		return 1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "input", required_argument, NULL, 'i' },
		{ "vm", required_argument, NULL, 'v' },
		{ "reason", required_argument, NULL, 'r' },
		{ "complete", no_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ }
	};
	const char *vm = NULL, *reason = NULL, *last_file = NULL;
	const char **files;
	int opt, quiet = 0, complete = 0, nfiles = 0, i, b, top;
	unsigned long long hist[NHIST] = { 0 }, holds = 0, hold_max = 0, ninv = 0, m;
	struct inval *v;

	files = calloc(argc + 1, sizeof(*files));
	if (!files) {
		perror("calloc");
		return 1;
	}
	while ((opt = getopt_long(argc, argv, "i:cqhV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i': files[nfiles++] = optarg; break;
		case 'v': vm = optarg; complete = 1; break;
		case 'r':
			for (i = 0; i < KVM_FASTINVAL_NR_REASONS; i++)
				if (!strcmp(optarg, reason_names[i]))
					break;
			if (i == KVM_FASTINVAL_NR_REASONS) {
				fprintf(stderr, "kvm-fastinval-stat: unknown reason '%s'; one of:", optarg);
				for (i = 0; i < KVM_FASTINVAL_NR_REASONS; i++)
					fprintf(stderr, " %s", reason_names[i]);
				fprintf(stderr, "\n");
				return 2;
			}
			reason = optarg;
			complete = 1;
			break;
		case 'c': complete = 1; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("kvm-fastinval-stat %s\n", VERSION); return 0;
		default:
			fprintf(stderr, "Try 'kvm-fastinval-stat --help' for more information.\n");
			return 2;
		}
	}
	while (optind < argc)
		files[nfiles++] = argv[optind++];
	if (!nfiles)
		files[nfiles++] = "trace.dat";
	for (i = 0; i < nfiles; i++)
		if (read_trace(files[i]))
			return 1;

	if (!quiet)
		printf("%-6s %-14s %-15s %5s %8s %8s %8s %8s %12s %12s\n", "id", "vm", "reason",
		       "mode", "used", "zapped", "tdp", "batches", "longest_us", "duration_us");
	for (v = head; v; v = v->next) {
		if (!wanted(v, vm, reason, complete))
			continue;
		ninv++;
		for (b = 0; b < NHIST; b++)
			hist[b] += v->hist[b];
		holds += v->holds;
		if (v->hold_max > hold_max)
			hold_max = v->hold_max;
		if (quiet)
			continue;
		if (nfiles > 1 && v->file != last_file)
			printf("# %s\n", v->file);
		last_file = v->file;
		printf("%-6llu %-14s %-15s %5s %8llu %8llu %8llu %8llu %12.1f %12.1f\n",
		       v->id, v->vm, v->reason,
		       !v->started ? "?" : v->stock ? "stock" : "ours",
		       v->used, v->zapped, v->tdp, v->batches, v->longest / 1e3,
		       v->duration / 1e3);
	}
	printf("# %llu invalidations shown of %llu (%llu start, %llu end events, %d file%s), "
	       "%llu batches in all, %llu mmu_lock holds shown, longest %.1f us\n",
	       ninv, nend, nstart, nend, nfiles, nfiles > 1 ? "s" : "", nbatch, holds,
	       hold_max / 1e3);
	printf("# mmu_lock hold time histogram (one sample per hold):\n");
	for (top = NHIST - 1; top > 0 && !hist[top]; top--)
		;
	for (m = 0, b = 0; b < NHIST; b++)
		if (hist[b] > m)
			m = hist[b];
	for (b = 0; b <= top; b++) {
		unsigned long long lo = b ? 1ULL << (b - 1) : 0, hi = 1ULL << b;
		int w = m ? (int)(hist[b] * 50 / m) : 0;

		printf("  %8llu - %8llu us %8llu |%.*s\n", lo, hi, hist[b], w,
		       "**************************************************");
	}
	return 0;
}
