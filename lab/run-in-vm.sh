#!/usr/bin/env bash
# run-in-vm.sh — run one program inside a throw-away QEMU VM that has a
# virtual CAN interface (vcan0) up, and exit with that program's exit code.
#
# Why: the host kernel may lack SocketCAN (socket(AF_CAN) fails), so
# SocketCAN code is tested under Debian's own kernel, booted with software
# emulation (TCG) because nested KVM is not available.
#
# Usage: run-in-vm.sh [--timeout S] [--file HOSTPATH]... [--merge-stderr] [--] PROGRAM [ARGS...]
#   PROGRAM   host executable (dynamic ELF or a #!/bin/sh script); it and all
#             its ldd dependencies are copied into the VM at the same paths.
#   --file P  extra host file or directory copied to the same path (repeatable).
#   --timeout S  wall-clock limit for the whole VM run (default 120).
#   --merge-stderr  send the program's stderr to stdout too (in guest order);
#             otherwise the two arrive over separate serial ports, and where
#             the caller merges them (2>&1) lines can interleave mid-line.
#
# Inside the VM: vcan0 is up (modules can, can-raw, can-dev, vcan loaded),
# busybox applets and can-utils (candump, cansend, cangen, canplayer) are on PATH; the
# program runs as root, in the host's current directory, stdin /dev/null.
# Host packages (qemu-system-x86, busybox-static, cpio, can-utils, xz-utils)
# are installed with apt-get if missing.
#
# Output: the guest program's stdout  -> host stdout (byte-exact, own serial port)
#         kernel console, init messages and the program's stderr -> host stderr
# Exit:   the program's exit code inside the VM; 125 if the VM could not give
#         one (QEMU error, timeout, panic, missing marker, setup failure).
#
# Environment:
#   ZHIL_VM_CACHE   cache for the kernel .deb and extracted files (/tmp/qemu-can/cache)
#   ZHIL_VM_KERNEL  auto (default: vmlinux via PVH, else vmlinuz) | vmlinux | vmlinuz
#   ZHIL_VM_MEM     guest RAM in MiB (default: 256, raised for big initramfs)
#   ZHIL_VM_CPU     QEMU CPU model (default qemu64; "max" for -march=native code)
#   ZHIL_VM_APPEND  extra kernel command line (e.g. "loglevel=7" to see the boot)
#   ZHIL_VM_DEBUG   1 = keep the work dir and print its path
set -euo pipefail

readonly FAIL=125
readonly MARKER=ZHIL-VM-EXIT
CACHE=${ZHIL_VM_CACHE:-/tmp/qemu-can/cache}
KERNEL_CHOICE=${ZHIL_VM_KERNEL:-auto}
TIMEOUT=120
EXTRA_FILES=()
PROG_STDERR=/dev/console
# Modules in dependency order: the .deb ships no modules.dep, so there is no
# modprobe; insmod needs each module's dependencies loaded first
# (can-raw needs can, vcan needs can-dev).
readonly MODULES=(can can-raw can-dev vcan)
readonly CAN_TOOLS=(candump cansend cangen canplayer)

die() { echo "run-in-vm: $*" >&2; exit "$FAIL"; }
log() { echo "run-in-vm: $*" >&2; }

# ---------------------------------------------------------------- arguments
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) [ $# -ge 2 ] || die "--timeout needs a value"; TIMEOUT=$2; shift 2 ;;
    --timeout=*) TIMEOUT=${1#*=}; shift ;;
    --file) [ $# -ge 2 ] || die "--file needs a path"; EXTRA_FILES+=("$2"); shift 2 ;;
    --file=*) EXTRA_FILES+=("${1#*=}"); shift ;;
    --merge-stderr) PROG_STDERR=/dev/ttyS0; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || die "usage: run-in-vm.sh [--timeout S] [--file HOSTPATH]... [--merge-stderr] PROGRAM [ARGS...]"
[[ $TIMEOUT =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds, got '$TIMEOUT'"

# Absolute host path, without resolving symlinks: the guest sees the file at
# the very path the caller named, so relative paths keep working from $PWD.
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }

PROGRAM=$1; shift
if [[ $PROGRAM != */* ]] && [ ! -e "$PROGRAM" ]; then
  PROGRAM=$(command -v -- "$PROGRAM") || die "program not found: $1"
fi
PROGRAM=$(abspath "$PROGRAM")
if [ ! -f "$PROGRAM" ] || [ ! -x "$PROGRAM" ]; then die "not an executable file: $PROGRAM"; fi

# ---------------------------------------------------------------- host packages
# Install only what is missing, so repeated runs never touch apt.
ensure_pkgs() {
  local p installed missing=()
  # One status query for all (the machine-readable form of `dpkg -s`);
  # unknown packages are absent from its output (and make it exit 1).
  installed=" $( { dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "$@" 2>/dev/null || true; } \
                | awk '$1 == "ii" { printf "%s ", $2 }')"
  for p in "$@"; do
    [[ $installed == *" $p "* ]] || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  # Lists may be stale or absent on a fresh machine: update first. apt's
  # chatter goes to a log that is shown only on failure.
  local aptlog=$CACHE/apt.log
  { apt-get -o DPkg::Lock::Timeout=600 update &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y \
      --no-install-recommends "${missing[@]}"; } >"$aptlog" 2>&1 \
    || { tail -n 20 "$aptlog" >&2; die "apt-get install ${missing[*]} failed"; }
}

mkdir -p "$CACHE"
# Serialise cache preparation: parallel test runs (ctest -j) would otherwise
# download and extract the same kernel at the same time.
exec 9>"$CACHE/.lock"
flock 9

ensure_pkgs qemu-system-x86 busybox-static cpio can-utils xz-utils

# ---------------------------------------------------------------- kernel
# The kernel package is whatever linux-image-amd64 currently depends on, so a
# Debian point release moves us to the new kernel without editing this file.
kernel_pkg() {
  apt-cache depends linux-image-amd64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
# apt-cache takes 1-2 s here, so its answer is cached until the apt lists
# change (apt-get update renames files into the lists dir, bumping its mtime).
lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)
KPKG=
if [ -f "$CACHE/kernel-pkg" ] && read -r stamp pkg <"$CACHE/kernel-pkg" \
   && [ "$stamp" = "$lists_stamp" ]; then
  KPKG=$pkg
fi
if [ -z "$KPKG" ]; then
  KPKG=$(kernel_pkg || true)
  if [ -z "$KPKG" ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
    lists_stamp=$(stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)
    KPKG=$(kernel_pkg || true)
  fi
  [ -z "$KPKG" ] || echo "$lists_stamp $KPKG" >"$CACHE/kernel-pkg"
fi
[ -n "$KPKG" ] || die "cannot find the kernel package that linux-image-amd64 depends on"
KVER=${KPKG#linux-image-}            # e.g. 6.1.0-56-amd64
KDIR=$CACHE/$KPKG

# Find a compressed payload inside the bzImage and decompress it to an ELF
# vmlinux (the approach of linux/scripts/extract-vmlinux). QEMU boots an ELF
# vmlinux through its PVH entry note, skipping the real-mode setup and the
# in-guest decompression, which is slow under TCG.
extract_vmlinux() {
  local img=$1 out=$2 magic tool off
  local -a methods=(
    '\xfd7zXZ\x00|xz -dc'
    '\x1f\x8b\x08|gzip -dc'
    '\x28\xb5\x2f\xfd|zstd -dcq'
    'BZh|bzip2 -dc'
    '\x5d\x00\x00\x00|xz -dc --format=lzma'
    '\x02\x21\x4c\x18|lz4 -dc'
  )
  for m in "${methods[@]}"; do
    magic=${m%%|*} tool=${m#*|}
    command -v "${tool%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$magic" "$img" 2>/dev/null | cut -d: -f1); do
      # Trailing data after the stream makes the decompressor exit non-zero,
      # so judge success by the ELF magic of the output instead.
      tail -c +$((off + 1)) "$img" | $tool >"$out" 2>/dev/null || true
      if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        return 0
      fi
    done
  done
  rm -f "$out"
  return 1
}

# Decompress a module if needed: busybox insmod cannot read .ko.xz/.ko.zst.
install_module() {
  local src=$1 dst=$2
  case $src in
    *.ko)     cp "$src" "$dst" ;;
    *.ko.xz)  xz -dc "$src" >"$dst" ;;
    *.ko.zst) ensure_pkgs zstd; zstd -dcq "$src" >"$dst" ;;
    *.ko.gz)  gzip -dc "$src" >"$dst" ;;
    *) die "unknown module format: $src" ;;
  esac
}

prepare_kernel() {
  [ -f "$KDIR/.ready" ] && return 0
  log "preparing $KPKG in $KDIR"
  # Keep an already downloaded, intact .deb (dpkg-deb --info checks it).
  local deb m
  for deb in "$KDIR"/dl/*.deb; do break; done   # first match, or the literal glob
  if [ ! -f "$deb" ] || ! dpkg-deb --info "$deb" >/dev/null 2>&1; then
    rm -rf "$KDIR"; mkdir -p "$KDIR/dl"
    # APT::Sandbox::User=root: the _apt user cannot write into our cache dir.
    (cd "$KDIR/dl" && apt-get -qq -o APT::Sandbox::User=root download "$KPKG") >&2 \
      || { apt-get -o DPkg::Lock::Timeout=600 update -qq >&2 || true
           (cd "$KDIR/dl" && apt-get -qq -o APT::Sandbox::User=root download "$KPKG") >&2; } \
      || die "apt-get download $KPKG failed"
    for deb in "$KDIR"/dl/*.deb; do break; done
  fi
  rm -rf "$KDIR/root" "$KDIR/modules" "$KDIR"/vmlinu? "$KDIR"/pvh.*
  mkdir -p "$KDIR/modules"
  # Like `dpkg-deb -x`, but only the files we use: the full tree is ~400 MB
  # and writing it takes twice as long as reading the archive.
  local -a want=("./boot/vmlinuz-$KVER")
  for m in "${MODULES[@]}"; do want+=("*/$m.ko" "*/$m.ko.*"); done
  mkdir -p "$KDIR/root"
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KDIR/root" --wildcards "${want[@]}" 2>/dev/null \
    || true
  # tar fails for patterns that match nothing (.ko vs .ko.xz), so check the
  # results below instead of its exit code.
  cp "$KDIR/root/boot/vmlinuz-$KVER" "$KDIR/vmlinuz" || die "no /boot/vmlinuz-$KVER in $deb"
  local f
  for m in "${MODULES[@]}"; do
    # /lib/modules or, on merged-/usr kernels, /usr/lib/modules.
    f=$(find "$KDIR/root/" -path "*/modules/$KVER/*" \( -name "$m.ko" -o -name "$m.ko.*" \) \
          | head -n 1)
    [ -n "$f" ] || die "module $m not found in $deb"
    install_module "$f" "$KDIR/modules/$m.ko"
  done
  extract_vmlinux "$KDIR/vmlinuz" "$KDIR/vmlinux" \
    || log "could not extract vmlinux from vmlinuz; will boot the compressed kernel"
  rm -rf "$KDIR/root"   # vmlinuz and modules were copied out
  touch "$KDIR/.ready"
}
prepare_kernel

# ---------------------------------------------------------------- initramfs
WORK=$(mktemp -d "${TMPDIR:-/tmp}/run-in-vm.XXXXXX")
if [ "${ZHIL_VM_DEBUG:-0}" = 1 ]; then
  log "work dir kept: $WORK"
else
  trap 'rm -rf "$WORK"' EXIT
fi
ROOT=$WORK/root
declare -A FILES=() LIBDIRS=()

# Host files go into the initramfs at the same paths; they are collected
# first and copied by one `cp --parents` (a fork per file costs seconds on a
# loaded machine). ldd runs once for all executables, and its list includes
# the dynamic loader. Scripts and static binaries simply have no deps.
add_files() { local f; for f in "$@"; do FILES[$f]=1; done; }
add_with_deps() {
  local out lib
  add_files "$@"
  out=$(ldd "$@" 2>/dev/null) || true   # non-zero for scripts; we check below
  if grep -q 'not found' <<<"$out"; then
    # With several files ldd prints "FILE:" headers; name only the guilty ones.
    die "unresolved libraries:"$'\n'"$(awk '/:$/ { f = $0 } /not found/ { print f, $0 }' <<<"$out")"
  fi
  while read -r lib; do
    FILES[$lib]=1
    LIBDIRS[${lib%/*}]=1
  done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// && NF == 2 { print $1 }' <<<"$out")
}
copy_files() {
  [ ${#FILES[@]} -gt 0 ] || return 0
  # -L: the guest gets real files wherever the caller or ldd named them
  # (symlinked dirs like /lib64 on merged-/usr hosts become real dirs).
  # No --preserve: with --parents it fails on symlinked dirs; modes are kept anyway.
  cp -rL --parents -t "$ROOT" -- "${!FILES[@]}" || die "copying files into the initramfs failed"
}

# Quote for the guest's /bin/sh.
shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

# busybox: one static binary; its applets are symlinked at boot by
# `busybox --install -s` in init (hundreds of `ln -s` forks on the host cost
# seconds, in the guest it is one process). Only /bin/sh is needed up front.
build_base() {
  local bb
  bb=$(dpkg -L busybox-static | grep -m1 '/busybox$') || die "busybox-static has no busybox binary"
  mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
  cp "$bb" "$ROOT/bin/busybox"
  ln -s busybox "$ROOT/bin/sh"
  printf 'root:x:0:0:root:/:/bin/sh\n' >"$ROOT/etc/passwd"
  printf 'root:x:0:\n' >"$ROOT/etc/group"
}

# /init = common setup + the body read from stdin (probe or real run).
write_init() {
  cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# PID 1 of the test VM (generated by run-in-vm.sh).
# Applet links; existing files (copied host binaries) are left alone.
/bin/busybox --install -s
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
# Host status channel is ttyS2; the console (ttyS1) shows it to humans too.
report() { echo "$1" >/dev/ttyS2; echo "$1"; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }
EOF
  cat >>"$ROOT/init"
  chmod 755 "$ROOT/init"
}

# cpio newc, uncompressed: decompression in the guest is slow under TCG and
# the initrd is only copied in memory, so gzip would cost more than it saves.
pack_initrd() {
  (cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$1" \
    || die "cpio failed"
}

# ---------------------------------------------------------------- boot
QEMU_RC=0
# qemu64 (QEMU's default model) boots ~1 s faster under TCG than "max";
# binaries built with -march=native may need ZHIL_VM_CPU=max.
CPU=${ZHIL_VM_CPU:-qemu64}
# Boot-time savings under TCG (~15%, measured): skip crypto self-tests,
# speculative-execution mitigations, timer/TSC sanity checks and PS/2 probing,
# none of which matter in a throw-away test VM.
BOOT_OPTS="mitigations=off cryptomgr.notests tsc=reliable no_timer_check i8042.nokbd i8042.noaux"
# Boot $1 (kernel) with $2 (initrd); stdout of the guest program arrives on
# our stdout, console on stderr, the status marker in $WORK/status.
boot() {
  local kernel=$1 initrd=$2 mem size_mb
  size_mb=$(( $(stat -c %s "$initrd") / 1048576 ))
  # The initrd lives in RAM twice (image + unpacked rootfs) plus the kernel.
  mem=${ZHIL_VM_MEM:-$(( size_mb * 3 + 192 > 256 ? size_mb * 3 + 192 : 256 ))}
  : >"$WORK/status"
  # ttyS0 -> our stdout (program output); ttyS1 -> stderr (console);
  # ttyS2 -> status file. QEMU's stderr is relayed through a pipe, so QEMU
  # reopening /proc/self/fd/2 gets that pipe and can never truncate or
  # overwrite a log file the caller redirected stderr to; sed drops the \r
  # the kernel console adds. stdin is /dev/null so QEMU never switches a
  # terminal to raw mode.
  set +e
  { timeout --kill-after=5 "$TIMEOUT" qemu-system-x86_64 \
      -nodefaults -display none -no-reboot \
      -machine pc -accel tcg -cpu "$CPU" -smp 1 -m "$mem" -net none \
      -kernel "$kernel" -initrd "$initrd" \
      -append "console=ttyS1 quiet panic=-1 $BOOT_OPTS ${ZHIL_VM_APPEND:-}" \
      -serial stdio \
      -chardev file,id=con,path=/proc/self/fd/2 -serial chardev:con \
      -serial "file:$WORK/status" \
      </dev/null 2>&1 1>&3 3>&- | sed -u 's/\r$//' >&2; } 3>&1
  QEMU_RC=${PIPESTATUS[0]}
  set -e
}
status_code() { sed -n "s/^$MARKER=\([0-9]\{1,\}\)\r\{0,1\}\$/\1/p" "$WORK/status" | tail -n 1; }

# Decide once per kernel whether the PVH boot of the ELF vmlinux works (it
# needs CONFIG_PVH, i.e. the Xen PVH ELF note): a tiny probe VM that only
# reports success. The verdict is cached, so normal runs never pay for it.
probe_pvh() {
  [ -f "$KDIR/vmlinux" ] || return 1
  [ -f "$KDIR/pvh.ok" ] && return 0
  [ -f "$KDIR/pvh.bad" ] && return 1
  ROOT=$WORK/probe build_base
  ROOT=$WORK/probe write_init <<EOF
report $MARKER=0
EOF
  ROOT=$WORK/probe pack_initrd "$WORK/probe.cpio"
  log "probing PVH boot of $KDIR/vmlinux"
  boot "$KDIR/vmlinux" "$WORK/probe.cpio" >/dev/null 2>"$WORK/probe.log"
  if [ "$(status_code)" = 0 ]; then touch "$KDIR/pvh.ok"; return 0; fi
  log "PVH boot failed (qemu rc $QEMU_RC); falling back to vmlinuz"
  sed 's/^/  | /' "$WORK/probe.log" >&2
  touch "$KDIR/pvh.bad"
  return 1
}

case $KERNEL_CHOICE in
  auto) if probe_pvh; then KERNEL=$KDIR/vmlinux; else KERNEL=$KDIR/vmlinuz; fi ;;
  vmlinux) [ -f "$KDIR/vmlinux" ] || die "no extracted vmlinux in $KDIR"; KERNEL=$KDIR/vmlinux ;;
  vmlinuz) KERNEL=$KDIR/vmlinuz ;;
  *) die "ZHIL_VM_KERNEL must be auto, vmlinux or vmlinuz" ;;
esac
# Cache is ready: release the lock (and don't leak its fd into QEMU), so the
# VM runs themselves can go in parallel.
flock -u 9; exec 9>&-

# ---------------------------------------------------------------- real run
build_base
# Modules go flat into /lib/modules: insmod takes paths, no modules.dep needed.
for m in "${MODULES[@]}"; do cp "$KDIR/modules/$m.ko" "$ROOT/lib/modules/"; done
exes=()
for t in "${CAN_TOOLS[@]}"; do
  tp=$(command -v "$t") || die "$t not found (can-utils)"
  exes+=("$tp")
done
exes+=("$PROGRAM")
for f in "${EXTRA_FILES[@]}"; do
  f=$(abspath "$f")
  [ -e "$f" ] || die "--file: no such file: $f"
  # An extra helper binary needs its libraries too; data files and dirs don't.
  if [ -f "$f" ] && [ -x "$f" ]; then exes+=("$f"); else add_files "$f"; fi
done
add_with_deps "${exes[@]}"
copy_files
mkdir -p "$ROOT$PWD"

# Libraries outside the loader's default dirs (found on the host through
# ld.so.cache or LD_LIBRARY_PATH) are found in the guest through this.
ldpath=$(IFS=:; echo "${!LIBDIRS[*]}")
args=$(for a in "$PROGRAM" "$@"; do shq "$a"; printf ' '; done)

write_init <<EOF
for m in ${MODULES[*]}; do
  insmod /lib/modules/\$m.ko || report "ZHIL-VM-ERROR=insmod \$m failed"
done
ip link set lo up   # for tests that also use loopback networking
# busybox's ip passes any "type" to the kernel as IFLA_INFO_KIND, so it can
# create vcan links itself; iproute2 from the host is not needed.
ip link add dev vcan0 type vcan || report "ZHIL-VM-ERROR=ip link add vcan0 failed"
ip link set vcan0 up || report "ZHIL-VM-ERROR=ip link set vcan0 up failed"
# Program stdout goes to its own port in raw mode, so the host gets the exact
# bytes (no \\r\\n translation, no kernel messages mixed in).
stty -F /dev/ttyS0 raw -echo
export LD_LIBRARY_PATH=$(shq "$ldpath")
cd $(shq "$PWD")
set -- $args
"\$@" </dev/null >/dev/ttyS0 2>$PROG_STDERR
report "$MARKER=\$?"
EOF
pack_initrd "$WORK/initrd.cpio"

boot "$KERNEL" "$WORK/initrd.cpio"

code=$(status_code)
if [ -n "$code" ]; then
  # A marker is the only proof the program ran; a timeout after it (e.g. a
  # hung poweroff) does not change the program's result.
  exit "$code"
fi
err=$(sed -n 's/^ZHIL-VM-ERROR=\(.*\)$/\1/p' "$WORK/status" | tr -d '\r' | tail -n 1)
if [ -n "$err" ]; then
  die "VM setup failed: $err"
elif [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
  die "timed out after ${TIMEOUT}s without an exit marker"
elif [ "$QEMU_RC" -ne 0 ]; then
  die "qemu failed with exit code $QEMU_RC"
else
  die "VM stopped without an exit marker (kernel panic or init died?)"
fi
