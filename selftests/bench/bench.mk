# SPDX-License-Identifier: GPL-2.0
# Read after the distro KVM selftests' own Makefile (make -f Makefile -f
# bench.mk): builds one program with exactly the library's flags and objects.
.PHONY: bench-prog
bench-prog: $(BENCH_OUT)
$(BENCH_OUT): $(BENCH_SRC) $(BENCH_DEPS) $(LIBKVM_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(BENCH_CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) $< $(LIBKVM_OBJS) $(LDLIBS) -o $@
