// SPDX-License-Identifier: GPL-2.0
/*
 * kvm-fastinval replaces kvm.ko, so kvm's names must keep working: users,
 * tools and the KVM selftests read and write /sys/module/kvm/parameters/.
 * The module is named kvm_fastinval, so /sys/module/kvm is made a link to
 * its own directory: same parameters, same live values, and kmod sees
 * "kvm" as loaded for as long as this module is.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "kvm_fastinval.h"

#define KVM_NAME "kvm"

static struct kobject *modules_kobj(void)
{
	return &THIS_MODULE->mkobj.kobj.kset->kobj;
}

int kvm_fastinval_init(void)
{
	struct kobject *kvm;
	int r;

	/* The stock kvm.ko exports the same symbols, so it cannot be here. */
	kvm = kset_find_obj(THIS_MODULE->mkobj.kobj.kset, KVM_NAME);
	if (kvm) {
		kobject_put(kvm);
		pr_err("/sys/module/%s exists: another kvm is loaded, unload it first\n",
		       KVM_NAME);
		return -EEXIST;
	}

	r = sysfs_create_link(modules_kobj(), &THIS_MODULE->mkobj.kobj, KVM_NAME);
	if (r)
		pr_err("cannot create /sys/module/%s: %d\n", KVM_NAME, r);
	return r;
}

void kvm_fastinval_exit(void)
{
	sysfs_remove_link(modules_kobj(), KVM_NAME);
}
