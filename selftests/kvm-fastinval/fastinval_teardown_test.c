// SPDX-License-Identifier: GPL-2.0
/*
 * fastinval_teardown_test: VM teardown racing invalidations.
 *
 *  1. VMs destroyed while invalidations run: a child process runs a vCPU
 *     and a thread deleting and re-adding a memslot in a loop (each delete
 *     a fast invalidate), and is then ended in turn by exit() from its main
 *     thread, by SIGKILL from the parent, or by closing the VM's and vCPU's
 *     file descriptors under the running threads; the VM must go away (its
 *     debugfs directory removed) and the child end as it was told to.
 *  2. Many VMs created and destroyed concurrently: threads each create a
 *     VM, run it, delete a memslot and free it, several times.
 *  3. With -u (needs root, and no other VM on the machine: the harness's
 *     guest): the module cannot be unloaded while a VM exists
 *     (delete_module of kvm_amd and of kvm refused) and unloads
 *     cleanly afterwards; it is then loaded again with the same npt.
 *  Every part ends with the kernel log check.
 *
 *   fastinval_teardown_test [-r ROUNDS] [-T THREADS] [-u]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fastinval_util.h"

#define DATA_SLOT	10
#define DATA_GPA	0x40000000UL
#define DATA_PAGES	256
#define PG		4096UL

static void guest_code(void)
{
	fi_guest_write_rounds(DATA_GPA, DATA_PAGES, 1);
}

static struct kvm_vm *new_vm(struct kvm_vcpu **vcpu)
{
	struct kvm_vm *vm = vm_create_with_one_vcpu(vcpu, guest_code);

	fi_ucall_init(vm);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, DATA_GPA, DATA_SLOT, DATA_PAGES, 0);
	virt_map(vm, DATA_GPA, DATA_GPA, DATA_PAGES);
	return vm;
}

/* -- 1. destroy while invalidating ---------------------------------------- */

struct child_state {
	volatile uint64_t deletes, runs;
};
static struct child_state *shared;
static int c_vm_fd, c_vcpu_fd;
static struct kvm_run *c_run;
static void *c_mem;

static void *c_vcpu_thread(void *arg)
{
	(void)arg;
	/* Raw KVM_RUN: ucalls are just exits; stops once the fd is gone. */
	while (ioctl(c_vcpu_fd, KVM_RUN, NULL) == 0 || errno == EINTR)
		shared->runs++;
	return NULL;
}

static void *c_churn_thread(void *arg)
{
	struct kvm_userspace_memory_region r = {
		.slot = DATA_SLOT, .guest_phys_addr = DATA_GPA,
		.memory_size = DATA_PAGES * PG, .userspace_addr = (uint64_t)c_mem,
	};

	(void)arg;
	for (;;) {
		r.memory_size = 0;
		if (ioctl(c_vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			break;
		shared->deletes++;
		r.memory_size = DATA_PAGES * PG;
		if (ioctl(c_vm_fd, KVM_SET_USER_MEMORY_REGION, &r))
			break;
	}
	return NULL;
}

/* how: 0 exit(), 1 SIGKILL from the parent, 2 close the fds */
static void child(int how, int delay_ms)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm = new_vm(&vcpu);
	pthread_t t1, t2;

	c_vm_fd = vm->fd;
	c_vcpu_fd = vcpu->fd;
	c_run = vcpu->run;
	c_mem = addr_gpa2hva(vm, DATA_GPA);
	pthread_create(&t1, NULL, c_vcpu_thread, NULL);
	pthread_create(&t2, NULL, c_churn_thread, NULL);
	usleep(delay_ms * 1000);
	if (how == 2) {
		close(c_vcpu_fd);
		close(c_vm_fd);
		/* The threads' in-flight ioctls hold the last references. */
		pthread_join(t2, NULL);
		pthread_kill(t1, SIGUSR1);
		pthread_join(t1, NULL);
		_exit(0);
	}
	if (how == 1)
		pause();
	_exit(0);
}

static int vm_dirs_of(pid_t pid)
{
	char prefix[32];
	struct dirent *d;
	DIR *dir = opendir(FI_DEBUGFS "/kvm");
	int n = 0;

	if (!dir)
		return 0;
	snprintf(prefix, sizeof(prefix), "%d-", pid);
	while ((d = readdir(dir)))
		n += !strncmp(d->d_name, prefix, strlen(prefix));
	closedir(dir);
	return n;
}

static void sigusr1(int sig)
{
	(void)sig;
}

static void destroy_while_invalidating(int rounds)
{
	static const char * const hows[] = { "exit()", "SIGKILL", "close(fds)" };
	int i, status, bad = 0, left = 0;
	uint64_t deletes = 0, prev;
	double t0;
	pid_t pid;

	shared = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(shared != MAP_FAILED, "mmap");
	signal(SIGUSR1, sigusr1);
	for (i = 0; i < rounds; i++) {
		int how = i % 3, delay = 100 + (i * 137) % 400;

		memset((void *)shared, 0, sizeof(*shared));
		prev = 0;
		pid = fork();
		TEST_ASSERT(pid >= 0, "fork");
		if (!pid)
			child(how, delay);
		if (how == 1) {
			/* Kill once deletes are running. */
			t0 = fi_now();
			while (shared->deletes < 3 && fi_now() - t0 < 30)
				usleep(1000);
			usleep(delay * 1000);
			kill(pid, SIGKILL);
		}
		t0 = fi_now();
		while (waitpid(pid, &status, WNOHANG) == 0) {
			if (fi_now() - t0 > 60) {
				kill(pid, SIGKILL);
				ksft_print_msg("round %d: child did not end in 60 s\n", i);
				bad++;
			}
			usleep(10000);
		}
		prev = shared->deletes;
		deletes += prev;
		if (how == 1 ? !(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) :
			       !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			ksft_print_msg("round %d (%s): child status 0x%x\n", i, hows[how], status);
			bad++;
		}
		if (vm_dirs_of(pid)) {
			ksft_print_msg("round %d (%s): VM of pid %d still in debugfs\n", i, hows[how], pid);
			left++;
		}
		ksft_print_msg("round %d: %s after %d ms: %lu deletes, %lu vCPU runs\n",
			       i, hows[how], delay, prev, shared->runs);
	}
	ksft_test_result(!bad && !left && deletes >= (uint64_t)rounds,
			 "%d VMs destroyed while deleting memslots (%lu deletes in all, %d bad ends, %d left)\n",
			 rounds, deletes, bad, left);
}

/* -- 2. many VMs concurrently ----------------------------------------------- */

static int vm_rounds = 4;
static volatile int vms_done;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;

static void *vm_thread(void *arg)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int i;

	(void)arg;
	for (i = 0; i < vm_rounds; i++) {
		vm = new_vm(&vcpu);
		vcpu_run(vcpu);
		TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC, "unexpected exit %s",
			    exit_reason_str(vcpu->run->exit_reason));
		vm_mem_region_delete(vm, DATA_SLOT);
		kvm_vm_free(vm);
		pthread_mutex_lock(&done_lock);
		vms_done++;
		pthread_mutex_unlock(&done_lock);
	}
	return NULL;
}

static void many_vms(int nthreads)
{
	pthread_t t[16];
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	double t0 = fi_now();
	int i;

	/* Warm the library's caches (CPUID) before going parallel. */
	vm = new_vm(&vcpu);
	kvm_vm_free(vm);
	for (i = 0; i < nthreads; i++)
		pthread_create(&t[i], NULL, vm_thread, NULL);
	for (i = 0; i < nthreads; i++)
		pthread_join(t[i], NULL);
	ksft_print_msg("%d VMs in %d threads in %.1f s\n", vms_done, nthreads, fi_now() - t0);
	ksft_test_result(vms_done == nthreads * vm_rounds && !vm_dirs_of(getpid()),
			 "%d VMs created, run, invalidated and destroyed by %d threads at once; none left\n",
			 vms_done, nthreads);
}

/* -- 3. module unload --------------------------------------------------------- */

static int unload(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? errno : 0;
}

static void module_unload(void)
{
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	char npt[8] = "", cmd[128];
	int e1, e2, e3, e4, r, back;

	fi_read_file("/sys/module/kvm_amd/parameters/npt", npt, sizeof(npt));
	npt[strcspn(npt, "\n")] = 0;
	fi_trace_stop();	/* enabled events hold a module reference */
	vm = new_vm(&vcpu);
	vcpu_run(vcpu);
	TEST_ASSERT(get_ucall(vcpu, &uc) == UCALL_SYNC, "unexpected exit");
	e1 = unload("kvm_amd");
	e2 = unload("kvm");
	ksft_print_msg("with a VM: delete_module(kvm_amd): %s, delete_module(kvm): %s\n",
		       e1 ? strerror(e1) : "unloaded!", e2 ? strerror(e2) : "unloaded!");
	ksft_test_result((e1 == EAGAIN || e1 == EBUSY) && (e2 == EAGAIN || e2 == EBUSY) &&
			 !access(FI_MODE, F_OK),
			 "unload refused while a VM exists\n");
	vm_mem_region_delete(vm, DATA_SLOT);
	kvm_vm_free(vm);
	e3 = unload("kvm_amd");
	e4 = unload("kvm");
	ksft_print_msg("after: delete_module(kvm_amd): %s, delete_module(kvm): %s\n",
		       e3 ? strerror(e3) : "ok", e4 ? strerror(e4) : "ok");
	snprintf(cmd, sizeof(cmd), "modprobe kvm_amd npt=%d", npt[0] == 'Y' || npt[0] == '1');
	r = system(cmd);
	back = !access(FI_MODE, F_OK) && !access("/dev/kvm", F_OK) && fi_shadow_mode() == (npt[0] == 'N');
	ksft_print_msg("'%s': %d; kvm-fastinval back: %d\n", cmd, r, back);
	ksft_test_result(!e3 && !e4, "kvm_amd and kvm unload once the VM is gone\n");
	TEST_ASSERT(back, "could not load kvm_amd again with npt=%s", npt);
}

int main(int argc, char *argv[])
{
	int rounds = 6, threads = 4, do_unload = 0, opt, kmsg;

	while ((opt = getopt(argc, argv, "r:T:uh")) != -1) {
		switch (opt) {
		case 'r': rounds = atoi(optarg); break;
		case 'T': threads = atoi(optarg); break;
		case 'u': do_unload = 1; break;
		default:
			printf("usage: %s [-r ROUNDS] [-T THREADS (1..16)] [-u]\n", argv[0]);
			return KSFT_FAIL;
		}
	}
	if (threads < 1 || threads > 16 || rounds < 1)
		ksft_exit_fail_msg("bad arguments\n");

	ksft_print_header();
	fi_require_module();
	fi_mount_fs();
	ksft_set_plan(5);
	kmsg = fi_kmsg_mark();
	ksft_print_msg("%s\n", fi_mode_name());

	destroy_while_invalidating(rounds);
	many_vms(threads);
	if (do_unload) {
		module_unload();
	} else {
		ksft_test_result_skip("unload refused while a VM exists (needs -u)\n");
		ksft_test_result_skip("unload once the VM is gone (needs -u)\n");
	}
	fi_kmsg_result(kmsg);
	ksft_finished();
}
