/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kvm-fastinval: the interface between the patched KVM sources and the
 * module's own code.
 */
#ifndef _KVM_FASTINVAL_H
#define _KVM_FASTINVAL_H

int kvm_fastinval_init(void);
void kvm_fastinval_exit(void);

#endif /* _KVM_FASTINVAL_H */
