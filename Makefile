# make && sudo make install    (PREFIX=/usr/local, SYSCONFDIR=/etc, DESTDIR= for staging)
# sudo make uninstall          removes what install added; keeps config, ACL and logs
# make deb                     builds packaging/debian's .deb into dist/
# make demo                    builds and starts the demo daemon (as scripts/demo)
# make test                    the whole test suite (as scripts/test)
# make bench                   rtty against socat, conserver and ser2net (bench/run.py; as
#                              root it installs the peers and runs the ssh rows); the table
#                              goes to bench/results/latest.txt
SWIFT ?= swift
# PREFIX, SYSCONFDIR, DESTDIR, ... given to make reach scripts/install.sh.
export

all:
	$(SWIFT) build -c release --static-swift-stdlib

install:
	@test -x .build/release/rttyd || $(SWIFT) build -c release --static-swift-stdlib
	sh scripts/install.sh install

uninstall:
	sh scripts/install.sh uninstall

deb:
	bash packaging/debian/build-deb

demo:
	bash scripts/demo

test:
	bash scripts/test

bench: all
	bash bench/install-peers
	python3 bench/run.py $(BENCH_ARGS)

.PHONY: all install uninstall deb demo test bench
