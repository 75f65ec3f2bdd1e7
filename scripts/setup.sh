#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Ubuntu machine for bpf-ide and then runs one job:
#   bash scripts/setup.sh demo   # build everything, run the demo (needs root for BPF)
#   bash scripts/setup.sh test   # build everything, run every test tier
#   bash scripts/setup.sh        # only set up
set -euo pipefail
cd "$(dirname "$0")/.."
job="${1:-}"

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian packages: compilers and BPF tooling, the agent's static libraries, sshd for the SSH tests,
# Chromium and libkrb5-dev for the real-VS-Code tier, iproute2 for network namespaces, qemu and
# busybox-static for the VM targets (vm:6.1, vm:6.12: other kernels booted in qemu).
APT_PACKAGES=(
  clang clang-19 clangd-19 llvm
  libbpf-dev bpftool libelf-dev zlib1g-dev libjansson-dev libzstd-dev
  gcc make pkg-config libc6-dev
  # (gcc brings libasan/libubsan: test/agent/sanitizers.test.ts builds the agent with them, dynamically
  #  linked against the -dev packages' shared libbpf, libelf, zlib and jansson)
  openssh-server openssh-client
  chromium libkrb5-dev
  iproute2 procps git ca-certificates
  qemu-system-x86 busybox-static
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The kernel's pseudo file systems the agent and the tests use (not mounted at boot on some machines).
if [ "$(id -u)" = 0 ]; then
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || echo "setup: could not mount bpffs"
  mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || echo "setup: could not mount tracefs"
fi

echo "setup: npm ci"
npm ci --no-audit --no-fund --loglevel=error
npm run build

# The kernels of the VM targets: Debian's 6.1 and 6.12 cloud kernels, downloaded with apt-get download
# and unpacked into ~/.cache/bpf-ide/kernels/ (never installed as this machine's kernel).
# A failed fetch (no route to the Debian mirror) is not fatal here: the vm tier then says which kernel is missing.
node dist/bpf-ide.js kernels fetch 6.1 6.12 || echo "setup: could not fetch the VM kernels (bpf-ide kernels fetch 6.1 6.12)"

if [ -f test/e2e/setup.sh ] && { [ "$job" = test ] || [ "$job" = e2e ]; }; then
  bash test/e2e/setup.sh
fi

case "$job" in
  demo) node dist/bpf-ide.js demo ;;
  # esbuild does not type-check: tsc and the linters run first, then every test tier.
  test) npm run typecheck --silent && npm run lint --silent && npm test --silent ;;
  "") echo "setup: done" ;;
  *) echo "setup: unknown job '$job' (use demo or test)"; exit 2 ;;
esac
