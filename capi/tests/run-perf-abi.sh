#!/usr/bin/env bash
# What the C ABI costs (issue 11): libzmq 4.3.4's own perf tools (its
# perf/*.cpp, from the zeromq-src crate's vendored sources) built twice,
# against our target/release/libzmq.so and against the system's libzmq.so.5
# when there is one, run beside our Rust perf tools (examples/local_thr.rs
# and friends, same arguments and output), interleaved, REPS times each.
#
#   capi/tests/run-perf-abi.sh [--reps N] [--size BYTES] [--count N] [--roundtrips N]
#
# Prints one table: median throughput (msg/s) and one-way latency (us) per
# tool and transport, and the ABI's ratio to the Rust API.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

reps=5 size=64 count=1000000 roundtrips=20000
while (($#)); do
  case $1 in
    --reps) reps=$2; shift ;;
    --size) size=$2; shift ;;
    --count) count=$2; shift ;;
    --roundtrips) roundtrips=$2; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

vendor=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/zeromq-src-*+4.3.4/vendor 2>/dev/null | head -1)
if [[ -z $vendor ]]; then
  cargo fetch >/dev/null 2>&1
  vendor=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/zeromq-src-*+4.3.4/vendor | head -1)
fi
cargo build --release -p zlink-mq-capi >&2 || exit 1
cargo build --release --example local_thr --example remote_thr --example local_lat \
  --example remote_lat --example inproc_thr --example inproc_lat >&2 || exit 1

out=$root/target/perf-abi
mkdir -p "$out/ours" "$out/libzmq"
# libzmq.so.5 (the SONAME) and libzmq.so, as installed.
capi/install.sh "$out/prefix" >/dev/null || exit 1
ourlib=$out/prefix/lib
# inproc_thr / inproc_lat include platform.hpp for their thread helpers.
printf '#define ZMQ_HAVE_LINUX 1\n#define ZMQ_USE_EPOLL 1\n' >"$out/platform.hpp"
tools=(local_thr remote_thr local_lat remote_lat inproc_thr inproc_lat)
build() { # <dir> <libdir>
  local t
  for t in "${tools[@]}"; do
    g++ -O2 -DZMQ_CUSTOM_PLATFORM_HPP -I"$out" "$vendor/perf/$t.cpp" \
      -L"$2" -Wl,-rpath,"$2" -lzmq -lpthread -o "$1/$t" || return 1
  done
}
build "$out/ours" "$ourlib" || exit 1
libs=(rust ours)
sys=/usr/lib/x86_64-linux-gnu
if [[ -e $sys/libzmq.so ]]; then
  build "$out/libzmq" "$sys" && libs+=(libzmq)
else
  echo "no system libzmq.so (apt-get install libzmq3-dev): libzmq's column is left out" >&2
fi
# The library each binary loads, as a check that the build linked what it says.
ldd "$out/ours/local_thr" | grep -q "$ourlib/libzmq.so.5" \
  || { echo "ours/local_thr does not load $ourlib/libzmq.so.5" >&2; exit 1; }

bin() { # <lib> <tool>
  if [[ $1 == rust ]]; then echo "$root/target/release/examples/$2"; else echo "$out/$1/$2"; fi
}
port=$((20000 + RANDOM % 20000))
endpoint() { # <transport>
  port=$((port + 1))
  case $1 in
    tcp) echo "tcp://127.0.0.1:$port" ;;
    ipc) echo "ipc://$out/perf-$port.ipc" ;;
  esac
}
# "mean throughput: N [msg/s]" (the Mb/s line also starts so) and
# "average latency: X [us]".
value() { grep -E "$1: [0-9.]+ \\[$2\\]" | head -1 | awk '{print $3}'; }
run_one() { # <lib> <row>
  local lib=$1 row=$2 ep
  case $row in
    inproc_thr) "$(bin "$lib" inproc_thr)" "$size" "$count" | value 'mean throughput' msg/s ;;
    inproc_lat) "$(bin "$lib" inproc_lat)" "$size" "$roundtrips" | value 'average latency' us ;;
    tcp_thr | ipc_thr)
      ep=$(endpoint "${row%_thr}")
      "$(bin "$lib" remote_thr)" "$ep" "$size" "$count" >/dev/null &
      "$(bin "$lib" local_thr)" "$ep" "$size" "$count" | value 'mean throughput' msg/s
      wait ;;
    tcp_lat | ipc_lat)
      ep=$(endpoint "${row%_lat}")
      # local_lat binds and echoes; remote_lat times the round trips.
      "$(bin "$lib" local_lat)" "$ep" "$size" "$roundtrips" >/dev/null &
      "$(bin "$lib" remote_lat)" "$ep" "$size" "$roundtrips" | value 'average latency' us
      wait ;;
  esac
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

rows=(inproc_thr inproc_lat ipc_thr ipc_lat tcp_thr tcp_lat)
declare -A samples
for ((r = 1; r <= reps; r++)); do
  for row in "${rows[@]}"; do
    for lib in "${libs[@]}"; do
      v=$(timeout 120 bash -c "$(declare -f run_one bin endpoint value); size=$size count=$count roundtrips=$roundtrips out=$out root=$root port=$port; run_one $lib $row")
      port=$((port + 2))
      samples[$lib,$row]+="${v:-} "
      echo "rep $r/$reps $row $lib: ${v:-failed}" >&2
    done
  done
done

echo "libzmq's perf tools on zlink-mq's libzmq.so (ours), on the system's libzmq ($(ls "$sys"/libzmq.so.5.* 2>/dev/null | head -1 || echo none)) and zlink-mq's Rust perf tools (rust); $size B, $count messages, $roundtrips round trips, median of $reps, $(date -u +%F), $(nproc) cores"
echo
printf '| Row | rust | ours (C ABI) | libzmq | ours / rust |\n| --- | --- | --- | --- | --- |\n'
for row in "${rows[@]}"; do
  m_rust=$(tr ' ' '\n' <<<"${samples[rust,$row]}" | grep . | median)
  m_ours=$(tr ' ' '\n' <<<"${samples[ours,$row]}" | grep . | median)
  m_lib=$(tr ' ' '\n' <<<"${samples[libzmq,$row]-}" | grep . | median)
  ratio=$(awk -v a="$m_ours" -v b="$m_rust" 'BEGIN { if (a+0 > 0 && b+0 > 0) printf "%.2f", a / b; else print "-" }')
  unit="msg/s"; [[ $row == *lat ]] && unit="us"
  printf '| %s (%s) | %s | %s | %s | %s |\n' "$row" "$unit" "$m_rust" "$m_ours" "$m_lib" "$ratio"
done
echo
echo "ours / rust: above 1 is better for throughput, below 1 for latency."
