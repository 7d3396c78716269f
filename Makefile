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

.PHONY: all module modules abi-check checkpatch clean distclean deps demo test
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
