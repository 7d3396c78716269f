// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_soak_test: minutes of everything at once.
 *
 * -c children (default 3) each run fastinval_invalidate_test in a VM of
 * their own: two vCPUs write and verify their data while the host deletes,
 * re-creates and moves a memslot, without pause.  Every -k seconds (default
 * 7) one child is killed with SIGKILL, most likely in the middle of an
 * invalidation, and a new one started; every 250 ms kvm-fastinval's
 * parameters change (mode, budget, batch).  The kvm_fastinval events of the
 * last -w seconds (default 30) are traced.
 * Checked: every child that was not killed passed (no data error, its
 * counters right, no kernel splat); children were killed and replaced;
 * every parameter write was taken; every invalidation in the trace window
 * adds up (fi_check_inval()); the kernel log has no splat.
 *
 *   fastinval_soak_test [-d MINUTES] [-c CHILDREN] [-k KILL_S] [-w WINDOW_S]
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include "fastinval_util.h"

#define MAX_CHILDREN	8

struct child {
	pid_t pid;
	int killed;
	char log[64];
};

static struct child children[MAX_CHILDREN];
static char invalidate_test[PATH_MAX];
static int started, killed, passed, failed;

static void spawn(struct child *c, int secs)
{
	char t[16];
	int fd;

	snprintf(c->log, sizeof(c->log), "/tmp/fastinval_soak.%d.log", started);
	snprintf(t, sizeof(t), "%d", secs);
	c->killed = 0;
	c->pid = fork();
	TEST_ASSERT(c->pid >= 0, "fork: %s", strerror(errno));
	if (!c->pid) {
		fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(invalidate_test, invalidate_test, "-v", "2", "-i", "0", "-t", t,
		      (char *)NULL);
		_exit(127);
	}
	started++;
}

/* A child ended: killed by us, passed, or failed (its log's failures shown). */
static void reaped(struct child *c, int status)
{
	char line[512];
	FILE *f;

	if (c->killed && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
		killed++;
		unlink(c->log);
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == KSFT_PASS) {
		passed++;
		unlink(c->log);
	} else {
		failed++;
		ksft_print_msg("child %d: %s %d; from %s:\n", c->pid,
			       WIFEXITED(status) ? "exit" : "signal",
			       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), c->log);
		f = fopen(c->log, "r");
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "not ok", 6) || strstr(line, "Assertion") ||
			    strstr(line, "kernel log:"))
				ksft_print_msg("  %s", line);
		if (f)
			fclose(f);
	}
	c->pid = 0;
}

/* The parameter sets the soak cycles through, all valid. */
static const char * const modes[] = { "bounded", "bounded", "stock" };
static const char * const budgets[] = { "1", "50", "500", "5000", "200000" };
static const char * const batches[] = { "1", "10", "64", "4096" };

int main(int argc, char *argv[])
{
	int minutes = 10, nchildren = 3, kill_s = 7, window_s = 30, opt, i, kmsg, status;
	int param_writes = 0, param_errors = 0, bad = 0, complete = 0, left, tries;
	double t0, end, next_kill, next_param = 0, next_note;
	bool tracing = false;
	struct fi_trace t;
	pid_t pid;

	while ((opt = getopt(argc, argv, "d:c:k:w:h")) != -1) {
		switch (opt) {
		case 'd': minutes = atoi(optarg); break;
		case 'c': nchildren = atoi(optarg); break;
		case 'k': kill_s = atoi(optarg); break;
		case 'w': window_s = atoi(optarg); break;
		default:
			printf("usage: %s [-d MINUTES] [-c CHILDREN (1..%d)] [-k KILL_S] [-w WINDOW_S]\n",
			       argv[0], MAX_CHILDREN);
			return KSFT_FAIL;
		}
	}
	if (minutes < 1 || nchildren < 1 || nchildren > MAX_CHILDREN || kill_s < 1 ||
	    window_s < 1 || window_s >= minutes * 60)
		ksft_exit_fail_msg("bad arguments\n");
	TEST_ASSERT(readlink("/proc/self/exe", invalidate_test, sizeof(invalidate_test) - 64) > 0,
		    "readlink /proc/self/exe: %s", strerror(errno));
	strcat(dirname(invalidate_test), "/fastinval_invalidate_test");

	ksft_print_header();
	fi_require_module();
	fi_mount_fs();
	ksft_set_plan(5);
	kmsg = fi_kmsg_mark();
	fi_params_save();
	ksft_print_msg("%s; %d minutes, %d children (%s), one killed every %d s, parameters changed every 250 ms, trace of the last %d s\n",
		       fi_mode_name(), minutes, nchildren, invalidate_test, kill_s, window_s);

	t0 = fi_now();
	end = t0 + minutes * 60;
	next_kill = t0 + kill_s;
	next_note = t0 + 60;
	for (;;) {
		double now = fi_now();

		/* Reap, and replace while there is time for a useful run. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < nchildren; i++)
				if (children[i].pid == pid)
					reaped(&children[i], status);
		left = (int)(end - now);
		for (i = 0; i < nchildren && left >= 10; i++)
			if (!children[i].pid)
				spawn(&children[i], left - 5);
		if (left < 10) {
			for (i = 0; i < nchildren; i++)
				if (children[i].pid)
					break;
			if (i == nchildren)
				break;
		}
		if (!tracing && now >= end - window_s) {
			fi_trace_start("32768");
			tracing = true;
		}
		if (now >= next_kill && left >= 10) {
			i = rand() % nchildren;
			if (children[i].pid && !kill(children[i].pid, SIGKILL))
				children[i].killed = 1;
			next_kill = now + kill_s;
		}
		if (now >= next_param) {
			int k = param_writes / 3, r;

			switch (param_writes % 3) {
			case 0: r = fi_param_set("fastinval_mode", modes[k % 3]); break;
			case 1: r = fi_param_set("fastinval_hold_budget_us", budgets[k % 5]); break;
			default: r = fi_param_set("fastinval_batch_pages", batches[k % 4]); break;
			}
			param_writes++;
			param_errors += r != 0;
			next_param = now + 0.25;
		}
		if (now >= next_note) {
			ksft_print_msg("%.0f s: %d children started, %d killed, %d passed, %d failed\n",
				       now - t0, started, killed, passed, failed);
			next_note += 60;
		}
		usleep(50000);
	}
	ksft_print_msg("%.0f s: %d children started, %d killed, %d passed, %d failed; %d parameter writes\n",
		       fi_now() - t0, started, killed, passed, failed, param_writes);
	ksft_test_result(failed == 0 && passed > 0,
			 "every child not killed verified its data and passed (%d passed, %d failed)\n",
			 passed, failed);
	ksft_test_result(killed > 0 && started > nchildren,
			 "children killed with SIGKILL and replaced (%d killed, %d started)\n",
			 killed, started);
	ksft_test_result(param_errors == 0 && param_writes > 0,
			 "%d parameter changes while VMs invalidated, %d refused\n",
			 param_writes, param_errors);

	/*
	 * A killed VM's last reference may go in a kworker (an async page
	 * fault's), after its process was reaped: give its teardown time.
	 */
	for (tries = 0;; tries++) {
		fi_trace_read(&t, NULL);
		for (i = 0, complete = 0; i < t.n; i++)
			complete += t.inv[i].ended;
		if (complete == t.n || tries == 10)
			break;
		fi_trace_free(&t);
		sleep(1);
	}
	for (i = 0; i < t.n; i++) {
		if (t.inv[i].ended)
			bad += fi_check_inval(&t.inv[i]) != 0;
		else
			ksft_print_msg("id %lu (%s, vm %s, vm_pid %d): no end event\n",
				       t.inv[i].id, t.inv[i].reason, t.inv[i].vm, t.inv[i].vm_pid);
	}
	ksft_print_msg("trace window: %d invalidations, %d complete (after %d s), %d orphan events%s\n",
		       t.n, complete, tries, t.orphans, t.lost ? ", events lost" : "");
	ksft_test_result(!t.lost && complete > 0 && complete == t.n && !bad,
			 "every invalidation of the last %d s complete and adding up (%d of %d, %d bad)\n",
			 window_s, complete, t.n, bad);
	fi_trace_free(&t);
	fi_kmsg_result(kmsg);
	ksft_finished();
}
