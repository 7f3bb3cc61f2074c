#!/usr/bin/env bash
# Checks that a partita build runs on any x86-64 CPU: disassembles the given
# binaries (default: the Python module, the command-line tool, the test and
# benchmark programs under BUILD_DIR) and fails if an instruction beyond the
# x86-64 baseline appears outside the dispatched kernels. Dispatched kernels
# are named after their level (partita::detail::avx512::..., adam_kernel_avx2,
# ...): AVX-512 code (zmm or opmask registers) is allowed only in functions
# whose name says avx512, other AVX/AVX2/FMA/BMI code (ymm registers, VEX
# encodings) only where it says avx2 or avx512.
# Binaries need their symbol table: a stripped one (the Python module of a
# Release build: pybind11 strips it) is reported and skipped; its library code
# is checked in the libpartita_*.a archives, and configuring with
# -DCMAKE_STRIP=/bin/true keeps the module's symbols so it can be checked too.
#   scripts/check_portable.sh [BUILD_DIR] [BINARY...]
# Prints, per binary, how many functions hold wide code and any offender.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/ci}
shift || true
if [ $# -gt 0 ]; then
  bins=("$@")
else
  mapfile -t bins < <(find "$build" -maxdepth 4 -type f \( -name '_core*.so' -o -name 'partita-cli' \
    -o -name 'test_*' -o -name 'bench_*' -o -name 'libpartita_*.a' \) ! -name '*.cmake' 2>/dev/null \
    | grep -v '\.dir/' | sort)
fi
if [ ${#bins[@]} -eq 0 ]; then
  echo "check_portable.sh: no binaries under $build (build it first)" >&2
  exit 2
fi
status=0
for bin in "${bins[@]}"; do
  if [[ "$bin" != *.a ]] && objdump -t "$bin" | grep -q '^no symbols'; then
    echo "skip $bin: stripped, no function names to check"
    continue
  fi
  report=$(objdump -d -C --no-show-raw-insn "$bin" | awk '
    /^[0-9a-f]+ <.*>:$/ { fn = substr($0, index($0, "<") + 1); sub(/>:$/, "", fn); next }
    /^ +[0-9a-f]+:\t/ {
      split($0, parts, "\t"); insn = parts[2]
      avx512 = insn ~ /%zmm|%k[0-7]/
      avx = avx512 || insn ~ /%ymm/ || insn ~ /^v[a-z]/ || insn ~ /^(andn|bextr|blsi|blsmsk|blsr|bzhi|mulx|pdep|pext|rorx|sarx|shlx|shrx|lzcnt|popcnt|movbe|kmov[bwdq])( |$)/
      if (!avx) next
      if (avx512 && fn !~ /avx512/) { bad[fn] = bad[fn] " " insn; nbad[fn]++ }
      else if (!avx512 && fn !~ /avx2|avx512/) { bad[fn] = bad[fn] " " insn; nbad[fn]++ }
      else wide[fn] = 1
    }
    END {
      n = 0; for (f in wide) n++
      printf "wide functions (all dispatched): %d\n", n
      for (f in bad) { printf "OFFENDER %d instructions in %s, e.g. %s\n", nbad[f], f, substr(bad[f], 1, 120) }
    }')
  if grep -q '^OFFENDER' <<<"$report"; then
    status=1
    echo "FAIL $bin"
    grep '^OFFENDER' <<<"$report" | head -20
  else
    echo "ok   $bin: $(head -1 <<<"$report")"
  fi
done
exit $status
