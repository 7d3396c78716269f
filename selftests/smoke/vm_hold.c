// SPDX-License-Identifier: GPL-2.0
/*
 * vm_hold: create a KVM VM and keep it until killed, so that tests can check
 * what happens to a host while a VM exists. Prints "vm_hold: ready" once the
 * VM exists.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(void)
{
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("vm_hold: open /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("vm_hold: KVM_CREATE_VM");
		return 1;
	}
	printf("vm_hold: ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
