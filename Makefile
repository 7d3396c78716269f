# SPDX-License-Identifier: GPL-2.0
#
# kvm-fastinval: a drop-in kvm.ko (module name kvm) built from the distro
# kernel's own KVM source. See README.md.
#
#   make [KVER=<release>] [KDIR=<headers>] [KSRC=<tree or tarball>]
#   make abi-check      exported symbols, CRCs and type layouts (BTF) equal
#                       the distro kvm.ko's
#   make checkpatch     checkpatch.pl --strict on our kernel C and patches
#   make demo           build, boot a Debian kernel in QEMU, show it working
#   make test           everything, for every supported Debian kernel
#   make fresh-test     build steps in a fresh Debian 12 root (FRESH_FULL=1: all)
#   make selftests-upstream      upstream KVM selftests (curated set), stock
#                                kvm.ko vs ours, TDP and shadow, in QEMU
#   make selftests-upstream-all  the same with the whole x86 suite
#   make soak           SOAK_MINUTES (10) of fastinval_soak_test, TDP and shadow
#   make debug-test     a lockdep/KASAN kernel from Debian's 6.12 source, our
#                       module against it, boot, kselftests, curated upstream
#                       set and soak on it (selftests/harness/debug-kernel.sh; hours)
#   (these three: for KVER= if given, else for every supported Debian kernel)
#   make deb            build/kvm-fastinval-dkms_<version>_all.deb (dh-dkms)
#   make rpm            build/rpm/.../kvm-fastinval-<version>-1.noarch.rpm
#   make bench          invalidation latency, stock kvm.ko vs the plain
#                       rebuild vs ours, in QEMU (for KVER= if given, else
#                       every supported Debian kernel);
#                       tables and PNGs in build/bench/
#   make stat           build/stat/kvm-fastinval-stat (libtracecmd)
#   make plain          build/plain/KVER/.../kvm.ko: the distro's KVM source
#                       as it is, no patches and none of our code, built the
#                       same way (the benchmark's baseline)
#   make patch-tree KVER=... DEST=dir [SERIES=...]
#                       a git tree of KVER's KVM source with the patch queue
#                       (of SERIES, default KVER's) applied as commits
#   make refresh-patches SERIES=... TREE=dir
#                       src/patches/SERIES from that tree's commits
#   make source-matrix  apply the queue and build kvm.ko (no boot, ABI
#                       check) for every linux-source version apt offers;
#                       table in build/source-matrix/table.md. APPLY_ONLY=1:
#                       apply only; SERIES=, RELEASES=, MAX_PER_SERIES=N,
#                       FLAVOURS= limit it (selftests/harness/source-matrix.sh)

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
KSRC ?=
export KSRC

# PLAIN=1 (make plain): the same build of the unpatched source, apart.
PLAIN ?=
BUILD := $(CURDIR)/build/$(if $(PLAIN),plain/)$(KVER)
KVM_DIR := $(BUILD)/arch/x86/kvm

# Our files are copied next to the extracted source so that kbuild can reach
# them by relative paths and each KVER builds its own objects.
our_files := Kbuild $(wildcard src/*.c include/*.h)
copies := $(addprefix $(BUILD)/fastinval/,$(our_files))
# One stamp per source, so that another KSRC= extracts and checks again.
prepared := $(BUILD)/.prepared-$(if $(KSRC),$(subst /,_,$(abspath $(KSRC))),distro)

# What the DKMS source tree holds: what builds the module, nothing else.
# The packages' sources add the user tools and the README.
DKMS_NAME := $(shell sed -n 's/^PACKAGE_NAME="\(.*\)"/\1/p' dkms.conf)
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
dist_files := Makefile Kbuild dkms.conf src include scripts/kvm-source.sh \
	scripts/dkms-post-install.sh
package_files := $(dist_files) README.md tools

.PHONY: all module modules abi-check checkpatch clean distclean deps demo test \
	dkms-source package-source dkms-install deb rpm selftests-upstream selftests-upstream-all \
	soak debug-test bench stat patch-tree refresh-patches plain
# A Debian kernel of another release than the host's, with no headers here:
# build it in a root of its release (scripts/build-root.sh), with as many
# jobs as this make was given.
ifeq ($(origin KDIR)$(wildcard $(KDIR)/Makefile),file)
in_root := $(filter-out native,$(shell scripts/build-root.sh --where $(KVER) 2>/dev/null))
endif
ifneq ($(in_root),)
root_jobs := $(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),1)
all module modules abi-check checkpatch:
	@scripts/build-root.sh $(KVER) make KVER=$(KVER) -j$(root_jobs) $(if $(KSRC),KSRC=$(KSRC)) $(if $(PLAIN),PLAIN=$(PLAIN)) $@
else
all module modules: $(prepared) $(copies)
	$(MAKE) -C $(KDIR) M=$(KVM_DIR) modules

# The source is re-extracted when the patches, the script or the distro
# source tarball change.
$(prepared): scripts/kvm-source.sh dkms.conf $(wildcard src/patches/*/*.patch) \
	     $(wildcard /usr/src/linux-source-*.tar.xz $(KSRC))
	@KVM_FASTINVAL_VERSION=$(DKMS_VERSION) scripts/kvm-source.sh $(if $(PLAIN),extract,prepare) $(KVER) $(KDIR) $(BUILD)
	@printf '%binclude $$(src)/../../../fastinval/Kbuild\n' $(if $(PLAIN),'KVM_FASTINVAL_PLAIN := y\n') >$(KVM_DIR)/Kbuild
	@rm -f $(BUILD)/.prepared-*
	@touch $@

$(BUILD)/fastinval/%: %
	@mkdir -p $(@D)
	@cp $< $@

# Exports, then the types' layouts: without MODVERSIONS (Debian 7.x) every
# CRC is 0. Both run; either fails the check.
abi-check: all
	@rc=0; scripts/abi-check.sh $(KDIR)/Module.symvers $(KVM_DIR)/Module.symvers || rc=1; \
	 KDIR=$(KDIR) scripts/abi-layout.sh --kver $(KVER) $(KVM_DIR)/kvm.ko || rc=1; exit $$rc

checkpatch: $(prepared)
	@scripts/checkpatch.sh $(BUILD)/scripts/checkpatch.pl
endif

# make dkms-source DEST=dir: the DKMS source tree, as DKMS wants it;
# make package-source DEST=dir: what the packages build from.
dkms-source package-source:
	@test -n "$(DEST)" || { echo "usage: make $@ DEST=dir" >&2; exit 1; }
	@rm -rf $(DEST) && mkdir -p $(DEST) && \
	 cp -a --parents $(if $(filter dkms-source,$@),$(dist_files),$(package_files)) $(DEST)/

# As root, on a host: build and install for KVER with the system's DKMS.
dkms-install:
	$(MAKE) dkms-source DEST=/usr/src/$(DKMS_NAME)-$(DKMS_VERSION)
	dkms install $(DKMS_NAME)/$(DKMS_VERSION) -k $(KVER)

# The package sources are packaging/debian and packaging/rpm; both build
# from a copy of the DKMS source tree, never from this checkout.
DEB_DIR := $(CURDIR)/build/deb
DEB := $(CURDIR)/build/$(DKMS_NAME)-dkms_$(DKMS_VERSION)_all.deb
deb:
	@v=$$(dpkg-parsechangelog -l packaging/debian/changelog -S Version); \
	 [ "$$v" = "$(DKMS_VERSION)" ] || { echo "packaging/debian/changelog is at $$v, dkms.conf at $(DKMS_VERSION): add a changelog entry (dch)" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)
	$(MAKE) -s package-source DEST=$(DEB_DIR)/$(DKMS_NAME)-$(DKMS_VERSION)
	cp -a packaging/debian $(DEB_DIR)/$(DKMS_NAME)-$(DKMS_VERSION)/debian
	cd $(DEB_DIR)/$(DKMS_NAME)-$(DKMS_VERSION) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || { tail -n 30 ../build.log; exit 1; }
	cp $(DEB_DIR)/$(notdir $(DEB)) $(DEB)
	@echo "$(DEB)"

RPM_DIR := $(CURDIR)/build/rpm
rpm:
	rm -rf $(RPM_DIR) && mkdir -p $(RPM_DIR)/SOURCES
	$(MAKE) -s package-source DEST=$(RPM_DIR)/$(DKMS_NAME)-$(DKMS_VERSION)
	tar -C $(RPM_DIR) -czf $(RPM_DIR)/SOURCES/$(DKMS_NAME)-$(DKMS_VERSION).tar.gz $(DKMS_NAME)-$(DKMS_VERSION)
	rpmbuild -bb --nodeps --define "_topdir $(RPM_DIR)" --define "version $(DKMS_VERSION)" \
		packaging/rpm/$(DKMS_NAME).spec >$(RPM_DIR)/build.log 2>&1 || { tail -n 30 $(RPM_DIR)/build.log; exit 1; }
	@find $(RPM_DIR)/RPMS -name '*.rpm'

deps:
	@scripts/deps.sh

demo:
	@selftests/harness/demo.sh

test:
	@selftests/harness/test-all.sh

.PHONY: fresh-test
fresh-test:
	@selftests/harness/fresh-root-test.sh

# KVER given on the command line: that kernel; else every supported one.
st_kvers = $(if $(filter command line environment,$(origin KVER)),$(KVER),\
	$(shell scripts/debian-kernels.sh list | awk '{ print $$2 }'))

selftests-upstream selftests-upstream-all:
	@rc=0; for k in $(st_kvers); do \
		selftests/harness/upstream-selftests.sh $(if $(findstring -all,$@),--all) $$k || rc=1; \
	done; exit $$rc

# SOAK_MINUTES (default 10) of fastinval_soak_test per kernel and mode.
soak:
	@rc=0; for k in $(st_kvers); do \
		selftests/harness/upstream-selftests.sh --soak $$k || rc=1; \
	done; exit $$rc

# Opt-in, not in test: the kernel build alone takes about an hour on 2 cores.
debug-test:
	@JOBS=$(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),$(shell nproc)) \
		selftests/harness/debug-kernel.sh test

# Speed is measured and reported, never asserted.
bench: stat
	@rm -f build/bench/results-all.txt; rc=0; for k in $(st_kvers); do \
		selftests/bench/bench.sh $$k || rc=1; \
		cat build/bench/$$k/results.txt >>build/bench/results-all.txt 2>/dev/null; \
	done; selftests/bench/bench-report.sh build/bench/results-all.txt build/bench >build/bench/table.txt && \
	cat build/bench/table.txt; exit $$rc

patch-tree:
	@test -n "$(DEST)" || { echo "usage: make patch-tree KVER=... DEST=dir [SERIES=...]" >&2; exit 1; }
	@KDIR=$(KDIR) scripts/patch-queue.sh tree $(KVER) $(DEST) $(SERIES)

refresh-patches:
	@test -n "$(SERIES)" && test -n "$(TREE)" || { echo "usage: make refresh-patches SERIES=... TREE=dir" >&2; exit 1; }
	@scripts/patch-queue.sh refresh $(SERIES) $(TREE)

# One build at a time, with as many jobs as this make was given.
.PHONY: source-matrix
source-matrix:
	@JOBS=$(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),1) \
		selftests/harness/source-matrix.sh $(if $(APPLY_ONLY),--apply-only)

plain:
	@$(MAKE) --no-print-directory PLAIN=1 all
	@echo build/plain/$(KVER)/arch/x86/kvm/kvm.ko

stat:
	@$(MAKE) -s -C tools/kvm-fastinval-stat VERSION=$(DKMS_VERSION)
	@echo build/stat/kvm-fastinval-stat

clean:
	rm -rf $(BUILD)

distclean:
	rm -rf build
