#!/usr/bin/env bash
# Check the README's quick start on a truly fresh Debian 12 (bookworm) machine.
#
# Builds a clean Debian root with mmdebstrap (variant minbase plus what a cloud VM's
# root user has to get the code: ca-certificates and git), from the same Debian
# registry as this machine (/etc/apt/sources.list.d/debian.sources, else
# /etc/apt/sources.list). It carries this machine's registry settings into the root
# so that it reaches the same Debian and PyPI registries: local CA certificates
# (/usr/local/share/ca-certificates), apt settings that say how to reach the
# registry (unowned /etc/apt/apt.conf.d files with Acquire:: options), pip's
# configuration (/etc/pip.conf, /etc/xdg/pip/*, ~/.config/pip/pip.conf, PIP_*
# variables) and the local wheel and index folders that configuration names
# (bind-mounted read-only at the same paths). Then it copies a `git clone` of this
# repository at REF into /root/partita and, as root in a chroot (/proc, /dev, /sys
# mounted in a private mount namespace, so nothing outlives the run), runs the
# README's two commands with Debian's own /usr/bin/python3, the only Python there:
#   scripts/demo.sh, then scripts/test.sh
# It prints a PASS/FAIL line per step with its time; the full output is in
# build/fresh-check/log (each step's also in build/fresh-check/<step>.log). The root
# (build/fresh-check/root) is removed after a pass and kept after a failure; enter it
# with `chroot build/fresh-check/root bash` (without /proc etc.) to look around.
# Needs root, mmdebstrap, util-linux (unshare) and network access to the registries;
# takes 20-40 minutes on 2 cores. Not part of scripts/test.sh.
#
# Usage: scripts/fresh-machine-check.sh [--ref REF] [--suite SUITE] [--keep-root]
#   --ref REF      the commit to check (default HEAD; uncommitted changes are not seen)
#   --suite SUITE  the Debian release (default bookworm)
#   --keep-root    keep the root after a pass too
set -euo pipefail

# The whole script is in functions, read before anything runs: editing the file
# during a check does not disturb it.

# ---- the part that runs inside the private mount namespace ----------------------
# inside ROOT DIR STEP...: mount /proc, /sys, /dev and the read-only folders, run
# each step in the chroot, write "STEP STATUS SECONDS" lines to DIR/results.
inside() {
  local root=$1 dir=$2
  shift 2
  mounts=()
  cleanup() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
      umount -R "${mounts[$i]}" 2>/dev/null || umount -l "${mounts[$i]}" 2>/dev/null || true
    done
  }
  trap cleanup EXIT
  mount -t proc proc "$root/proc"; mounts+=("$root/proc")
  mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"; mounts+=("$root/sys")
  mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"; mounts+=("$root/dev")
  while IFS= read -r d; do
    [ -n "$d" ] || continue
    mkdir -p "$root$d"
    mount --bind "$d" "$root$d"
    mount -o remount,bind,ro "$root$d"
    mounts+=("$root$d")
  done <"$dir/ro-dirs"
  env_args=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8 TERM=dumb
            PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  while IFS= read -r kv; do
    [ -n "$kv" ] && env_args+=("$kv")
  done <"$dir/pip-env"
  for step in "$@"; do
    name=$(basename "$step" .sh)
    echo "== $(date -u +%H:%M:%S) $step (output: $dir/$name.log)"
    start=$(date +%s)
    echo "== $(date -u +%H:%M:%S) output of $step" >>"$dir/log"
    set +e
    chroot "$root" /usr/bin/env -i "${env_args[@]}" /bin/bash -c "cd /root/partita && $step" \
      2>&1 | tee "$dir/$name.log" >>"$dir/log"
    status=${PIPESTATUS[0]}
    set -e
    echo "$step $status $(($(date +%s) - start))" >>"$dir/results"
    [ "$status" -eq 0 ] || break
  done
  exit 0
}

main() {
  # ---- the outer part: build the root, run the steps, print the summary -----------
  self=$(readlink -f "$0")
  trap 'echo "fresh-machine-check: stopped by a failing command at line $LINENO" >&2' ERR
  ref=HEAD suite=bookworm keep=0
  while [ $# -gt 0 ]; do
    case "$1" in
      --ref) ref=$2; shift 2 ;;
      --suite) suite=$2; shift 2 ;;
      --keep-root) keep=1; shift ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) echo "fresh-machine-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
  done
  cd "$(dirname "$0")/.."
  repo=$(git rev-parse --show-toplevel)
  cd "$repo"
  [ "$(id -u)" -eq 0 ] || { echo "fresh-machine-check: must run as root (chroot, mounts)" >&2; exit 2; }
  for tool in mmdebstrap unshare chroot git; do
    command -v "$tool" >/dev/null || { echo "fresh-machine-check: $tool not found" >&2; exit 2; }
  done
  sha=$(git rev-parse --verify "$ref^{commit}")
  if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "fresh-machine-check: note: uncommitted changes are not checked (only $ref)"
  fi

  dir=$repo/build/fresh-check
  root=$dir/root
  log=$dir/log
  under_root_mounted() { awk -v r="$root" '$2 == r || index($2, r "/") == 1' /proc/self/mounts | grep -q .; }
  if under_root_mounted; then
    echo "fresh-machine-check: something is mounted under $root; unmount it first" >&2; exit 2
  fi
  rm -rf --one-file-system "$root"
  mkdir -p "$dir"
  rm -f "$dir"/*.log "$dir/results" "$log"
  : >"$dir/ro-dirs"
  : >"$dir/pip-env"
  exec > >(tee -a "$log") 2>&1

  fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
  echo "partita fresh-machine check: Debian $suite root, commit $(git log -1 --format='%h %s' "$sha")"
  echo "started $(date -u '+%Y-%m-%d %H:%M:%S UTC'); log: $log"

  # Debian's registry, as this machine uses it.
  sources=/etc/apt/sources.list.d/debian.sources
  [ -f "$sources" ] || sources=/etc/apt/sources.list
  [ -f "$sources" ] || { echo "fresh-machine-check: no Debian apt sources found" >&2; exit 2; }
  mm_args=(--variant=minbase --include=ca-certificates,git)
  # apt settings about reaching the registry that no package ships (local admin files).
  for f in /etc/apt/apt.conf.d/*; do
    [ -f "$f" ] || continue
    dpkg -S "$f" >/dev/null 2>&1 && continue
    grep -q '^[[:space:]]*Acquire' "$f" && mm_args+=("--aptopt=$f")
  done
  # Local CA certificates (for a TLS-inspecting proxy between this machine and PyPI).
  if compgen -G "/usr/local/share/ca-certificates/*" >/dev/null; then
    mm_args+=("--customize-hook=cp -a /usr/local/share/ca-certificates/. \"\$1/usr/local/share/ca-certificates/\" && chroot \"\$1\" update-ca-certificates >/dev/null")
  fi

  echo "== $(date -u +%H:%M:%S) building the root with mmdebstrap ($sources)"
  start=$(date +%s)
  set +e
  mmdebstrap "${mm_args[@]}" "$suite" "$root" "$sources" >"$dir/root.log" 2>&1
  status=$?
  set -e
  echo "root $status $(($(date +%s) - start))" >>"$dir/results"

  if [ "$status" -eq 0 ]; then
    # DNS as on this machine.
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    # pip's configuration; the folders and files it names come along (folders read-only).
    pip_files=()
    for f in /etc/pip.conf /etc/xdg/pip/pip.conf "$HOME/.config/pip/pip.conf" "$HOME/.pip/pip.conf"; do
      [ -f "$f" ] || continue
      pip_files+=("$f")
      dest=$root${f/#$HOME//root}
      mkdir -p "$(dirname "$dest")"
      cp "$f" "$dest"
    done
    if [ -d /etc/xdg/pip ]; then
      mkdir -p "$root/etc/xdg/pip"
      cp -r /etc/xdg/pip/. "$root/etc/xdg/pip/"
    fi
    env | grep '^PIP_' >"$dir/pip-env" || true
    for p in $( { cat "${pip_files[@]}" /dev/null; cut -d= -f2- "$dir/pip-env"; } \
                | grep -o '\(file://\)\?/[^[:space:]"'"'"',;]*' | sed 's|^file://||' | sort -u); do
      p=${p%/}
      if [ -d "$p" ]; then
        # the folder that holds a local index (…/simple) is the one to mount
        [ "$(basename "$p")" = simple ] && p=$(dirname "$p")
        [ -n "$p" ] && [ "$p" != / ] && echo "$p" >>"$dir/ro-dirs"
      elif [ -f "$p" ] && [ ! -e "$root$p" ]; then
        mkdir -p "$(dirname "$root$p")"
        cp "$p" "$root$p"
      fi
    done
    sort -u -o "$dir/ro-dirs" "$dir/ro-dirs"
    [ ! -s "$dir/ro-dirs" ] || echo "   local PyPI folders (read-only): $(tr '\n' ' ' <"$dir/ro-dirs")"
    pys=$(cd "$root" && ls usr/bin/python3* usr/local/bin/python* 2>/dev/null | tr '\n' ' ' || true)
    echo "   root ready: $(du -sh --one-file-system "$root" | cut -f1); Python in it: ${pys:-none yet, setup.sh installs the Debian one}"

    git clone -q --no-hardlinks "$repo" "$root/root/partita"
    git -C "$root/root/partita" checkout -q --detach "$sha"

    unshare --mount --propagation private --pid --fork \
      "$self" --inside "$root" "$dir" scripts/demo.sh scripts/test.sh || true
  fi

  # ---- summary ----------------------------------------------------------------------
  echo
  echo "== summary (commit $(git rev-parse --short "$sha"), Debian $suite, $(nproc) cores)"
  result=PASS total=0 failed=""
  for step in root scripts/demo.sh scripts/test.sh; do
    line=$(awk -v s="$step" '$1 == s' "$dir/results" | tail -n 1)
    if [ -z "$line" ]; then
      printf '  %-18s %-4s\n' "$step" "not run"; result=FAIL; continue
    fi
    read -r _ status secs <<<"$line"
    total=$((total + secs))
    if [ "$status" -eq 0 ]; then
      printf '  %-18s PASS  %s\n' "$step" "$(fmt_time "$secs")"
    else
      printf '  %-18s FAIL  %s  (exit %s)\n' "$step" "$(fmt_time "$secs")" "$status"
      result=FAIL; failed=$step
    fi
  done
  if [ -n "$failed" ]; then
    name=$(basename "$failed" .sh)
    echo "-- last lines of $dir/$name.log:"
    tail -n 40 "$dir/$name.log" | sed 's/^/   /'
  fi
  echo "FRESH-MACHINE CHECK: $result in $(fmt_time "$total"); log: $log"
  if [ "$result" = PASS ] && [ "$keep" -eq 0 ]; then
    if under_root_mounted; then
      echo "fresh-machine-check: $root still has mounts; not removing it" >&2
    else
      rm -rf --one-file-system "$root"
    fi
  else
    echo "root kept: $root"
  fi
  [ "$result" = PASS ]
}

if [ "${1:-}" = "--inside" ]; then
  shift
  inside "$@"
else
  main "$@"
fi
exit
