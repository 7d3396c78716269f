// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_smoke: minimal KVM smoke test on raw ioctls, TAP output.
 *
 * The guest runs in 64-bit long mode on 4 KiB identity page tables built
 * by the host, so every guest access goes through the MMU (shadow paging
 * with npt=0).  It writes a pattern over a separate data memslot, sums it
 * and reports the sum by port I/O.  The host then deletes the data slot
 * and recreates it on fresh backing with a different pattern: the guest
 * must see the new contents (no stale SPTEs survive the invalidation),
 * increments every qword, reports the new sum and halts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#define KSFT_PASS	0
#define KSFT_FAIL	1
#define KSFT_SKIP	4

/* Plain literals: they are pasted into the guest's assembly too. */
#define DATA_GPA	0x400000
#define DATA_SIZE	0x400000
#define DATA_QWORDS	0x80000
#define PORT_RESULT	0x500
#define PORT_SYNC	0x504
#define MUL1		0x9e3779b97f4a7c15
#define SEED1		0x0123456789abcdef
#define MUL2		0xbf58476d1ce4e5b9
#define SEED2		0x94d049bb133111eb

#define LOW_SIZE	0x200000	/* slot 0: page tables, code, stack */
#define PML4_GPA	0x1000
#define PDPT_GPA	0x2000
#define PD_GPA		0x3000
#define PT_GPA		0x4000		/* 4 PTs, one per 2 MiB of 0..8 MiB */
#define GDT_GPA		0x9000
#define CODE_GPA	0x10000
#define STACK_TOP	0x80000

#define PTE_P		0x1ULL
#define PTE_RW		0x2ULL

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_AM		(1ULL << 18)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define TIMEOUT_S	120
#define NR_TESTS	11

#define __stringify_1(x)	#x
#define __stringify(x)		__stringify_1(x)

/*
 * Guest code, assembled into the host binary and copied into guest memory.
 * It must stay position independent and never touch the stack.
 */
extern const unsigned char guest_code_start[], guest_code_end[];
asm(".pushsection .text.kvm_smoke_guest, \"ax\"\n"
	".code64\n"
	".globl guest_code_start\n"
	"guest_code_start:\n"
	"	movabs $" __stringify(DATA_GPA) ", %rdi\n"
	"	mov $" __stringify(DATA_QWORDS) ", %ecx\n"
	"	movabs $" __stringify(MUL1) ", %r9\n"
	"	movabs $" __stringify(SEED1) ", %r10\n"
    /* phase 1: q[i] = i * MUL1 + SEED1 */
	"	xor %eax, %eax\n"
	"1:	mov %rax, %rdx\n"
	"	imul %r9, %rdx\n"
	"	add %r10, %rdx\n"
	"	mov %rdx, (%rdi,%rax,8)\n"
	"	inc %rax\n"
	"	cmp %rcx, %rax\n"
	"	jb 1b\n"
    /* read it back through the MMU */
	"	xor %eax, %eax\n"
	"	xor %r8d, %r8d\n"
	"2:	add (%rdi,%rax,8), %r8\n"
	"	inc %rax\n"
	"	cmp %rcx, %rax\n"
	"	jb 2b\n"
	"	mov $" __stringify(PORT_RESULT) ", %dx\n"
	"	mov %r8, %rax\n"
	"	out %eax, %dx\n"
	"	shr $32, %rax\n"
	"	out %eax, %dx\n"
    /* host swaps the data slot's backing here */
	"	mov $" __stringify(PORT_SYNC) ", %dx\n"
	"	out %eax, %dx\n"
    /* phase 2: sum the new contents, q[i]++ */
	"	xor %eax, %eax\n"
	"	xor %r8d, %r8d\n"
	"3:	mov (%rdi,%rax,8), %rsi\n"
	"	add %rsi, %r8\n"
	"	inc %rsi\n"
	"	mov %rsi, (%rdi,%rax,8)\n"
	"	inc %rax\n"
	"	cmp %rcx, %rax\n"
	"	jb 3b\n"
	"	mov $" __stringify(PORT_RESULT) ", %dx\n"
	"	mov %r8, %rax\n"
	"	out %eax, %dx\n"
	"	shr $32, %rax\n"
	"	out %eax, %dx\n"
	"4:	hlt\n"
	"	jmp 4b\n"
	".globl guest_code_end\n"
	"guest_code_end:\n"
	".popsection\n");

static int test_nr;
static volatile sig_atomic_t timed_out;

static void tap_pass(const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++test_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Later steps depend on earlier ones, so stop at the first failure. */
static void __attribute__((noreturn)) tap_fail(const char *fmt, ...)
{
	va_list ap;

	printf("not ok %d - ", ++test_nr);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\nBail out! remaining tests not run\n");
	fflush(stdout);
	exit(KSFT_FAIL);
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static uint64_t pattern1(uint64_t i)
{
	return i * (uint64_t)MUL1 + (uint64_t)SEED1;
}

static uint64_t pattern2(uint64_t i)
{
	return i * (uint64_t)MUL2 + (uint64_t)SEED2;
}

/* The guest's reported sum must be the pattern's: else it read stale data. */
static uint64_t check_sum(const uint32_t *res, uint64_t (*pattern)(uint64_t),
			  int phase)
{
	uint64_t got = (uint64_t)res[1] << 32 | res[0], want = 0;
	uint64_t i;

	for (i = 0; i < DATA_QWORDS; i++)
		want += pattern(i);
	if (got != want)
		tap_fail("phase %d guest sum 0x%llx, want 0x%llx (stale mapping?)",
			 phase, (unsigned long long)got,
			 (unsigned long long)want);
	return got;
}

static void *alloc_guest_mem(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		tap_fail("mmap %zu bytes of guest memory: %s", size, strerror(errno));
	return p;
}

static int set_slot(int vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    void *hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
}

/* Identity map 0..8 MiB with 4 KiB pages; 2..4 MiB has no memslot. */
static void build_page_tables(uint8_t *low)
{
	uint64_t *pml4 = (uint64_t *)(low + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(low + PDPT_GPA);
	uint64_t *pd = (uint64_t *)(low + PD_GPA);
	int i, j;

	pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++) {
		uint64_t *pt = (uint64_t *)(low + PT_GPA + i * 0x1000);

		if (i == 1)
			continue;
		pd[i] = (PT_GPA + i * 0x1000) | PTE_P | PTE_RW;
		for (j = 0; j < 512; j++)
			pt[j] = ((uint64_t)i << 21 | (uint64_t)j << 12) |
				PTE_P | PTE_RW;
	}
}

/* 6.12 checks EFER.LME against the guest's CPUID: give it all KVM has. */
static void set_supported_cpuid(int kvm, int vcpu)
{
	struct kvm_cpuid2 *cpuid;
	int nent = 64;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) +
			       nent * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid)
			tap_fail("calloc: %s", strerror(errno));
		cpuid->nent = nent;
		if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG)
			tap_fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		nent *= 2;
	}
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		tap_fail("KVM_SET_CPUID2: %s", strerror(errno));
	free(cpuid);
}

static void setup_long_mode(int vcpu, uint8_t *low)
{
	struct kvm_segment code = {
		.base = 0, .limit = 0xffffffff, .selector = 1 << 3,
		.type = 11, .present = 1, .dpl = 0, .db = 0, .s = 1,
		.l = 1, .g = 1,
	};
	struct kvm_segment data = code;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t *gdt = (uint64_t *)(low + GDT_GPA);

	/* Only for completeness: the guest never reloads a segment. */
	gdt[1] = 0x00af9b000000ffffULL;
	gdt[2] = 0x00cf93000000ffffULL;

	/* Start from the reset state so TR/LDTR stay valid for VMX too. */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		tap_fail("KVM_GET_SREGS: %s", strerror(errno));
	data.selector = 2 << 3;
	data.type = 3;
	data.l = 0;
	data.db = 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.cr3 = PML4_GPA;
	sregs.cr4 = CR4_PAE;
	sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM |
		    CR0_PG;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		tap_fail("KVM_SET_SREGS (long mode): %s", strerror(errno));

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rsp = STACK_TOP;
	regs.rflags = 0x2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		tap_fail("KVM_SET_REGS: %s", strerror(errno));
}

static void dump_exit(int vcpu, struct kvm_run *run, const char *what)
{
	struct kvm_regs regs;

	printf("# %s: exit_reason %u", what, run->exit_reason);
	if (!ioctl(vcpu, KVM_GET_REGS, &regs))
		printf(" rip 0x%llx rax 0x%llx rcx 0x%llx",
		       regs.rip, regs.rax, regs.rcx);
	if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
		printf(" hw_entry_failure_reason 0x%llx",
		       run->fail_entry.hardware_entry_failure_reason);
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		printf(" suberror %u", run->internal.suberror);
	putchar('\n');
}

/*
 * Run until the guest writes PORT_SYNC (returns 0) or halts (returns 1),
 * collecting 32-bit PORT_RESULT writes into res[].
 */
static int run_guest(int vcpu, struct kvm_run *run, uint32_t *res, int *nres)
{
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && timed_out)
				tap_fail("guest did not finish within %d s",
				     TIMEOUT_S);
			if (errno == EINTR)
				continue;
			tap_fail("KVM_RUN: %s", strerror(errno));
		}
		switch (run->exit_reason) {
		case KVM_EXIT_HLT:
			return 1;
		case KVM_EXIT_IO:
			if (run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.size != 4 || run->io.count != 1)
				break;
			if (run->io.port == PORT_SYNC)
				return 0;
			if (run->io.port != PORT_RESULT)
				break;
			if (*nres >= 2)
				tap_fail("guest wrote too many results");
			memcpy(&res[(*nres)++],
			       (uint8_t *)run + run->io.data_offset, 4);
			continue;
		default:
			break;
		}
		dump_exit(vcpu, run, "unexpected exit");
		tap_fail("guest ran to completion (unexpected exit %u)",
		     run->exit_reason);
	}
}

int main(void)
{
	size_t code_len = guest_code_end - guest_code_start;
	uint64_t *data, *data2, got, i;
	uint32_t res[2];
	int kvm, vm, vcpu, api, nres, mmap_size, halted;
	struct kvm_run *run;
	uint8_t *low;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		int e = errno;

		if (e == ENOENT || e == ENXIO || e == ENODEV || e == EACCES) {
			printf("1..0 # SKIP /dev/kvm: %s\n", strerror(e));
			return KSFT_SKIP;
		}
		printf("1..%d\n", NR_TESTS);
		tap_fail("open /dev/kvm: %s", strerror(e));
	}
	printf("1..%d\n", NR_TESTS);

	api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION)
		tap_fail("KVM_GET_API_VERSION is %d, want %d", api,
		     KVM_API_VERSION);
	tap_pass("open /dev/kvm, KVM_GET_API_VERSION %d", api);

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		tap_fail("KVM_CREATE_VM: %s", strerror(errno));
	tap_pass("KVM_CREATE_VM");

	low = alloc_guest_mem(LOW_SIZE);
	data = alloc_guest_mem(DATA_SIZE);
	build_page_tables(low);
	memcpy(low + CODE_GPA, guest_code_start, code_len);
	if (set_slot(vm, 0, 0, LOW_SIZE, low) < 0)
		tap_fail("KVM_SET_USER_MEMORY_REGION slot 0: %s", strerror(errno));
	if (set_slot(vm, 1, DATA_GPA, DATA_SIZE, data) < 0)
		tap_fail("KVM_SET_USER_MEMORY_REGION slot 1: %s", strerror(errno));
	tap_pass("memslots: 2 MiB code/page tables, %d MiB data", DATA_SIZE >> 20);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		tap_fail("KVM_CREATE_VCPU: %s", strerror(errno));
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(*run))
		tap_fail("KVM_GET_VCPU_MMAP_SIZE: %d", mmap_size);
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu, 0);
	if (run == MAP_FAILED)
		tap_fail("mmap kvm_run: %s", strerror(errno));
	tap_pass("KVM_CREATE_VCPU and kvm_run mapping");

	set_supported_cpuid(kvm, vcpu);
	setup_long_mode(vcpu, low);
	tap_pass("vCPU in 64-bit mode, paging on, CR3 0x%x", PML4_GPA);

	signal(SIGALRM, on_alarm);
	alarm(TIMEOUT_S);

	nres = 0;
	if (run_guest(vcpu, run, res, &nres) != 0 || nres != 2)
		tap_fail("guest phase 1 reported %d result words before sync",
		     nres);
	got = check_sum(res, pattern1, 1);
	tap_pass("phase 1: guest sum of %d MiB pattern 0x%llx", DATA_SIZE >> 20,
	   (unsigned long long)got);

	for (i = 0; i < DATA_QWORDS; i++)
		if (data[i] != pattern1(i))
			tap_fail("phase 1 pattern at GPA 0x%llx: 0x%llx, want 0x%llx",
			     (unsigned long long)(DATA_GPA + i * 8),
			     (unsigned long long)data[i],
			     (unsigned long long)pattern1(i));
	tap_pass("phase 1: guest pattern present in memslot backing");

	/* Delete and recreate the slot: forces a zap of its SPTEs. */
	data2 = alloc_guest_mem(DATA_SIZE);
	for (i = 0; i < DATA_QWORDS; i++)
		data2[i] = pattern2(i);
	if (set_slot(vm, 1, DATA_GPA, 0, NULL) < 0)
		tap_fail("delete slot 1: %s", strerror(errno));
	if (set_slot(vm, 1, DATA_GPA, DATA_SIZE, data2) < 0)
		tap_fail("recreate slot 1: %s", strerror(errno));
	tap_pass("data memslot deleted and recreated on new backing");

	nres = 0;
	halted = run_guest(vcpu, run, res, &nres);
	if (nres != 2)
		tap_fail("guest phase 2 reported %d result words", nres);
	got = check_sum(res, pattern2, 2);
	tap_pass("phase 2: guest read new backing, sum 0x%llx",
	   (unsigned long long)got);

	for (i = 0; i < DATA_QWORDS; i++) {
		if (data2[i] != pattern2(i) + 1)
			tap_fail("phase 2 new backing at GPA 0x%llx: 0x%llx, want 0x%llx",
			     (unsigned long long)(DATA_GPA + i * 8),
			     (unsigned long long)data2[i],
			     (unsigned long long)(pattern2(i) + 1));
		if (data[i] != pattern1(i))
			tap_fail("old backing written after slot deletion at GPA 0x%llx",
			     (unsigned long long)(DATA_GPA + i * 8));
	}
	tap_pass("phase 2: guest writes hit new backing only");

	alarm(0);
	if (!halted)
		tap_fail("guest did not halt after phase 2");
	tap_pass("guest halted (KVM_EXIT_HLT)");

	munmap(run, mmap_size);
	close(vcpu);
	close(vm);
	close(kvm);
	return KSFT_PASS;
}
