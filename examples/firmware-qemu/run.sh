#!/usr/bin/env bash
# Builds the firmware for the Cortex-M3 (thumbv7m-none-eabi) and the
# Cortex-M0 (thumbv6m-none-eabi), boots each program in QEMU (the
# lm3s6965evb with either core; req also on the microbit's nRF51822)
# against its libzmq peer (peer.py, pyzmq) over the emulated UARTs, and
# checks both ends' results. Prints the footprint table; its last line is
# the footprint summary. Exits non-zero on a wrong exchange, a missing
# result, a failed build or a timeout.
#
#   examples/firmware-qemu/run.sh            # from anywhere
#   FIRMWARE_TIMEOUT=120 ./run.sh            # seconds per exchange (default 60)
#   FIRMWARE_FEATURES=reasons ./run.sh       # failures say why (more flash)
#   ./run.sh --write-docs                    # and put the footprint table
#                                            # into docs/EMBEDDED.md
#
# Each boot is bounded: the peer gives up FIRMWARE_TIMEOUT seconds after it
# starts, and both QEMU and the peer are killed 10 s after that at the
# latest; when either end fails, the other is stopped a few seconds later.
#
# Installs what is missing: qemu-system-arm and binutils (apt), pyzmq
# (pip, else apt's python3-zmq), the two rustup targets and the rustfmt
# and clippy components.
set -euo pipefail
cd "$(dirname "$0")"

TIMEOUT=${FIRMWARE_TIMEOUT:-60}
write_docs=0
case ${1:-} in
  "") ;;
  --write-docs)
    write_docs=1
    if [[ -n ${FIRMWARE_FEATURES:-} ]]; then
      echo "--write-docs measures the default build: unset FIRMWARE_FEATURES" >&2
      exit 2
    fi
    ;;
  *)
    echo "usage: $0 [--write-docs]" >&2
    exit 2
    ;;
esac
# What the firmware exchanges, from src/exchange.rs, for the peer.
const() { sed -n "s/^pub const $1: [a-z0-9]* = \([0-9]*\);.*/\1/p" src/exchange.rs; }
REQ_COUNT=$(const ROUND_TRIPS)
PUBSUB_COUNT=$(const ECHOES)
SPAN=$(const PAYLOAD_SPAN)
if [[ -z $REQ_COUNT || -z $PUBSUB_COUNT || -z $SPAN ]]; then
  echo "FAILED: ROUND_TRIPS, ECHOES or PAYLOAD_SPAN not found in src/exchange.rs" >&2
  exit 1
fi
LOGS=target/run
mkdir -p "$LOGS"

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}
command -v qemu-system-arm >/dev/null || apt_install qemu-system-arm
# pyzmq for whichever python3 is first on PATH (pip), else Debian's.
if ! python3 -c 'import zmq' 2>/dev/null; then
  python3 -m pip install -q pyzmq 2>/dev/null ||
    python3 -m pip install -q --break-system-packages pyzmq 2>/dev/null ||
    apt_install python3-zmq
  if ! python3 -c 'import zmq'; then
    echo "FAILED: no pyzmq for $(command -v python3)" >&2
    exit 1
  fi
fi
command -v readelf >/dev/null || apt_install binutils
if command -v rustup >/dev/null; then
  rustup target add thumbv7m-none-eabi thumbv6m-none-eabi >/dev/null
  rustup component add rustfmt clippy >/dev/null
fi

FEATURES=()
[[ -n ${FIRMWARE_FEATURES:-} ]] && FEATURES=(--features "$FIRMWARE_FEATURES")
# This crate is outside the host workspace, so the root's fmt and clippy
# do not see it: checked here, for both targets.
echo "=== fmt, clippy, build"
cargo fmt --check
for target in thumbv7m-none-eabi thumbv6m-none-eabi; do
  cargo clippy --release --target "$target" "${FEATURES[@]}" -- -D warnings
  cargo build --release --target "$target" "${FEATURES[@]}"
done
# The micro:bit board (req only), in a target dir of its own: the same
# target triple with other features would overwrite the LM3S6965 builds.
MICROBIT=(--release --target thumbv6m-none-eabi --target-dir target/microbit
  --no-default-features --features "microbit${FIRMWARE_FEATURES:+,$FIRMWARE_FEATURES}")
cargo clippy "${MICROBIT[@]}" -- -D warnings
cargo build "${MICROBIT[@]}"

# free_ports N: N distinct ports that nothing listens on now.
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

failed=0
declare -A PEAK

# stop_after SECONDS PID: ends PID (a `timeout` we started, which passes
# the signal on) unless it ends by itself within SECONDS.
stop_after() {
  local left=$(($1 * 5))
  while ((left-- > 0)) && kill -0 "$2" 2>/dev/null; do sleep 0.2; done
  kill "$2" 2>/dev/null || true
}

# exit_why WHO RC: adds to `why` how WHO ended, unless with status 0.
exit_why() {
  case $2 in
    0) ;;
    124 | 137) why+=("$1 timed out after ${bound}s") ;;
    143) why+=("$1 stopped, the other end having failed") ;;
    *) why+=("$1 exited with $2") ;;
  esac
}

# The boards: a Cortex-M3 and a Cortex-M0 on QEMU's lm3s6965evb, and the
# micro:bit's nRF51822 (Cortex-M0, one UART: req only).
BOARDS="m3 m0 microbit"
progs_of() { if [[ $1 == microbit ]]; then echo req; else echo req pubsub; fi; }
target_of() { if [[ $1 == m3 ]]; then echo thumbv7m-none-eabi; else echo thumbv6m-none-eabi; fi; }
elf_of() {
  case $1 in
    m3 | m0) echo "target/$(target_of "$1")/release/$2" ;;
    microbit) echo "target/microbit/thumbv6m-none-eabi/release/$2" ;;
  esac
}
machine_of() {
  case $1 in
    m3) echo "-M lm3s6965evb -cpu cortex-m3" ;;
    m0) echo "-M lm3s6965evb -cpu cortex-m0" ;;
    microbit) echo "-M microbit" ;;
  esac
}

# run BOARD PROGRAM: one boot, checked at both ends.
run() {
  local board=$1 prog=$2
  local elf machine what
  elf=$(elf_of "$board" "$prog")
  read -ra machine <<<"$(machine_of "$board")"
  what="$prog on $board (${machine[*]})"
  local tag=$prog-$board
  local fw=$LOGS/$tag.firmware.log qemu=$LOGS/$tag.qemu.log peer=$LOGS/$tag.peer.log
  local nports=1 count=$REQ_COUNT
  [[ $prog == pubsub ]] && nports=2 count=$PUBSUB_COUNT
  echo "=== $what"
  local bound=$((TIMEOUT + 10)) attempt qemu_pid ports serial
  # QEMU listens on a port per UART and the peer connects. The port is
  # free when picked but may be taken before QEMU binds it (other programs
  # on the machine): then QEMU exits at once, and we pick again.
  for attempt in 1 2 3; do
    read -ra ports <<<"$(free_ports "$nports")"
    serial=()
    for ((i = 0; i < nports; i++)); do
      # wait=off: the firmware runs before the peer connects (it sends
      # nothing until the peer speaks). TCP_NODELAY: the UART writes byte
      # by byte.
      serial+=(-serial "tcp:127.0.0.1:${ports[i]},server=on,wait=off,nodelay=on")
    done
    timeout --kill-after=5 "$bound" qemu-system-arm "${machine[@]}" \
      -display none -monitor none \
      -semihosting-config enable=on,target=native "${serial[@]}" \
      -kernel "$elf" >"$fw" 2>"$qemu" &
    qemu_pid=$!
    # The peer connects only once the firmware has set up its UARTs:
    # QEMU resets a UART's receive FIFO when the firmware enables it, and
    # would drop what arrived before.
    local waited=0
    until grep -q "^$prog: ready" "$fw"; do
      if ! kill -0 "$qemu_pid" 2>/dev/null || ((waited >= 100)); then
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$qemu_pid" 2>/dev/null || ! grep -q "Address already in use" "$qemu"; then
      break
    fi
    wait "$qemu_pid" || true
    echo "  (a port was taken before QEMU could listen: attempt $attempt, picking again)"
  done
  timeout --kill-after=5 "$bound" python3 peer.py "$prog" "${ports[@]}" \
    --count "$count" --span "$SPAN" --timeout "$TIMEOUT" >"$peer" 2>&1 &
  local peer_pid=$!
  # Until one end is done; if it failed, the other has nothing left to
  # wait for: the firmware stops on its heartbeat timeout (3 s) once the
  # peer is gone, the peer only at its deadline, so it is stopped.
  while kill -0 "$qemu_pid" 2>/dev/null && kill -0 "$peer_pid" 2>/dev/null; do
    sleep 0.2
  done
  local qemu_rc=0 peer_rc=0
  if ! kill -0 "$qemu_pid" 2>/dev/null; then
    wait "$qemu_pid" || qemu_rc=$?
    ((qemu_rc != 0)) && stop_after 2 "$peer_pid"
    wait "$peer_pid" || peer_rc=$?
  else
    wait "$peer_pid" || peer_rc=$?
    ((peer_rc != 0)) && stop_after 6 "$qemu_pid"
    wait "$qemu_pid" || qemu_rc=$?
  fi
  sed 's/^/  firmware: /' "$fw"
  sed 's/^/  /' "$peer"

  local want_fw want_peer
  case $prog in
    req)
      want_fw="^req: $count round trips, [0-9]+ payload bytes"
      want_peer="^peer: REP served $count requests, every one as expected$"
      ;;
    pubsub)
      want_fw="^pubsub: received $count sensor/ messages, echoed $count,"
      want_peer="^peer: SUB got $count echoes, every one as published$"
      ;;
  esac
  local why=()
  exit_why QEMU "$qemu_rc"
  exit_why "the peer" "$peer_rc"
  grep -Eq "$want_fw" "$fw" || why+=("no firmware line /$want_fw/")
  grep -Eq "$want_peer" "$peer" || why+=("no peer line /$want_peer/")
  if ((${#why[@]})); then
    echo "FAILED: $what: ${why[*]}"
    sed 's/^/  qemu: /' "$qemu"
    failed=1
  else
    PEAK[$tag]=$(sed -n 's/^stack: peak \([0-9]*\) of.*/\1/p' "$fw")
    echo "ok: $what"
  fi
}

for board in $BOARDS; do
  for prog in $(progs_of "$board"); do
    run "$board" "$prog"
  done
done

# Section sizes in bytes, as `size -A` reports them (GNU size reads any
# ELF).
section() {
  size -A -d "$1" | awk -v s="$2" '$1 == s { n = $2 } END { print n + 0 }'
}

# The table, as text here and as Markdown for docs/EMBEDDED.md.
MD=$LOGS/footprint.md
{
  echo "| program | board (QEMU machine) | target | vector table | .text | .rodata | **flash** | .data | .bss | stack peak | **RAM** |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$MD"
echo "=== footprint (bytes; opt-level \"s\", LTO, panic = abort)"
printf '%-7s %-9s %-19s %6s %6s %6s %8s %6s %6s %6s %6s\n' \
  program board target vector .text .rodata flash .data .bss stack RAM
summary=()
for board in $BOARDS; do
  target=$(target_of "$board")
  read -ra machine <<<"$(machine_of "$board")"
  for prog in $(progs_of "$board"); do
    elf=$(elf_of "$board" "$prog")
    vec=$(section "$elf" .vector_table)
    text=$(section "$elf" .text)
    rodata=$(section "$elf" .rodata)
    data=$(section "$elf" .data)
    bss=$(($(section "$elf" .bss) + $(section "$elf" .uninit)))
    peak=${PEAK[$prog-$board]:-}
    # Flash as the issue counts it (.text + .rodata); the image adds the
    # vector table and .data's initial values.
    flash=$((text + rodata))
    if [[ -n $peak ]]; then ram=$((data + bss + peak)); else peak=-; ram=-; fi
    printf '%-7s %-9s %-19s %6d %6d %6d %8d %6d %6d %6s %6s\n' \
      "$prog" "$board" "$target" "$vec" "$text" "$rodata" "$flash" "$data" "$bss" "$peak" "$ram"
    echo "| \`$prog\` | $board (\`${machine[*]}\`) | \`$target\` | $vec | $text | $rodata | **$flash** | $data | $bss | $peak | **$ram** |" >>"$MD"
    summary+=("$prog/$board flash $flash RAM $ram")
  done
done

# The biggest contributors to the PUB + SUB firmware's flash, by module:
# symbol sizes from `nm` (code inlined into a caller counts as the
# caller's; `main` holds what was inlined into it).
contributors() {
  nm -S -C --size-sort "$1" | python3 -c '
import re, sys
groups = {}
for line in sys.stdin:
    parts = line.split(maxsplit=3)
    if len(parts) < 4 or parts[2] not in "tTrR":
        continue
    name = parts[3].strip().lstrip("<")
    if name in ("__INTERRUPTS", "__EXCEPTIONS", "__RESET_VECTOR"):
        continue  # the vector table, outside the flash column
    if name.startswith("__cortex_m_rt_main") or "::__cortex_m_rt_main" in name:
        key = "the program (main, with what was inlined into it)"
    elif name.startswith("zlink_mq_core::"):
        key = "::".join(name.split("::")[:2])
    elif name.startswith("core::fmt") or re.match(r"[a-z0-9_]+ as core::fmt", name):
        key = "core::fmt"
    elif "::" in name:
        key = name.split("::")[0]
    elif name.startswith(".L"):
        key = "anonymous constants (literals, tables)"
    else:
        key = name
    groups[key] = groups.get(key, 0) + int(parts[1], 16)
rows = sorted(groups.items(), key=lambda kv: -kv[1])[:8]
print("| module | bytes |")
print("|---|---:|")
for key, size in rows:
    print(f"| `{key}` | {size} |")
'
}
{
  echo
  echo "Biggest contributors to \`pubsub\` (thumbv7m-none-eabi) flash, by module (\`nm -S --size-sort\`):"
  echo
  contributors target/thumbv7m-none-eabi/release/pubsub
  echo
  echo "Measured by \`examples/firmware-qemu/run.sh --write-docs\` with $(rustc --version | cut -d' ' -f1-2), $(qemu-system-arm --version | head -1 | sed 's/ (.*//'), pyzmq $(python3 -c 'import zmq; print(zmq.__version__, "/ libzmq", zmq.zmq_version())')."
} >>"$MD"

if ((failed)); then
  echo "FAILED (logs in examples/firmware-qemu/$LOGS)"
  echo "footprint: $(IFS=';'; echo "${summary[*]}" | sed 's/;/; /g')"
  exit 1
fi
if ((write_docs)); then
  # Between the markers in docs/EMBEDDED.md, the table of this run.
  doc=../../docs/EMBEDDED.md
  python3 - "$doc" "$MD" <<'PY'
import sys
doc, md = sys.argv[1], sys.argv[2]
text = open(doc).read()
begin, end = "<!-- footprint:begin -->\n", "<!-- footprint:end -->"
a, b = text.index(begin) + len(begin), text.index(end)
open(doc, "w").write(text[:a] + open(md).read() + text[b:])
PY
  echo "wrote the footprint into docs/EMBEDDED.md"
fi
echo "footprint: $(IFS=';'; echo "${summary[*]}" | sed 's/;/; /g')"
