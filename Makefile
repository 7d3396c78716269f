# SPDX-License-Identifier: GPL-2.0
#
# kvm-fastinval: a drop-in kvm.ko built from the distro kernel's own KVM
# source. See README.md.
#
#   make [KVER=<release>] [KDIR=<headers>] [KSRC=<tree or tarball>]
#   make abi-check      exported symbols and CRCs equal the distro kvm.ko's
#   make checkpatch     checkpatch.pl --strict on our kernel C and patches
#   make demo           build, boot a Debian kernel in QEMU, show it working
#   make test           everything, for every supported Debian kernel

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
KSRC ?=
export KSRC

BUILD := $(CURDIR)/build/$(KVER)
KVM_DIR := $(BUILD)/arch/x86/kvm
MODULE := $(KVM_DIR)/kvm-fastinval.ko

# Our files are copied next to the extracted source so that kbuild can reach
# them by relative paths and each KVER builds its own objects.
our_files := Kbuild $(wildcard src/*.c include/*.h)
copies := $(addprefix $(BUILD)/fastinval/,$(our_files))
# One stamp per source, so that another KSRC= extracts and checks again.
prepared := $(BUILD)/.prepared-$(if $(KSRC),$(subst /,_,$(abspath $(KSRC))),distro)

# What a source package (DKMS) holds: the sources, never build output.
DKMS_NAME := $(shell sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
dist_files := Makefile Kbuild dkms.conf README.md src include scripts packaging

.PHONY: all module modules abi-check checkpatch clean distclean deps demo test \
	dkms-source dkms-install
all module modules: $(prepared) $(copies)
	$(MAKE) -C $(KDIR) M=$(KVM_DIR) modules

# The source is re-extracted when the patches, the script or the distro
# source tarball change.
$(prepared): scripts/kvm-source.sh $(wildcard src/patches/*/*.patch) \
	     $(wildcard /usr/src/linux-source-*.tar.xz $(KSRC))
	@scripts/kvm-source.sh prepare $(KVER) $(KDIR) $(BUILD)
	@echo 'include $$(src)/../../../fastinval/Kbuild' >$(KVM_DIR)/Kbuild
	@rm -f $(BUILD)/.prepared-*
	@touch $@

$(BUILD)/fastinval/%: %
	@mkdir -p $(@D)
	@cp $< $@

abi-check: all
	@scripts/abi-check.sh $(KDIR)/Module.symvers $(KVM_DIR)/Module.symvers

checkpatch: $(prepared)
	@scripts/checkpatch.sh $(BUILD)/scripts/checkpatch.pl

# make dkms-source DEST=dir: the DKMS source tree, as DKMS wants it.
dkms-source:
	@test -n "$(DEST)" || { echo "usage: make dkms-source DEST=dir" >&2; exit 1; }
	@rm -rf $(DEST) && mkdir -p $(DEST) && cp -a $(dist_files) $(DEST)/

# As root, on a host: build and install for KVER with the system's DKMS.
dkms-install:
	$(MAKE) dkms-source DEST=/usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
	dkms install $(DKMS_NAME)/$(DKMS_VERSION) -k $(KVER)
	install -m 0644 packaging/modprobe.d/kvm-fastinval.conf /etc/modprobe.d/

deps:
	@scripts/deps.sh

demo:
	@scripts/demo.sh

test:
	@scripts/test-all.sh

clean:
	rm -rf $(BUILD)

distclean:
	rm -rf build
