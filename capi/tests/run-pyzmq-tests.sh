#!/usr/bin/env bash
# Builds pyzmq from its sdist against zlink-mq's libzmq.so (pyzmq's own
# ZMQ_PREFIX build) in a virtualenv, and runs pyzmq's test suite on it,
# file by file, each bounded.
#
#   capi/tests/run-pyzmq-tests.sh [--timeout SECS] [test_file.py ...]
#
# Work directory: target/pyzmq (the venv, the wheel and the logs are kept,
# so a second run skips the build). Prints one line per test file with
# pytest's counts, then the totals.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
pyzmq_version=${PYZMQ_VERSION:-27.3.0}
timeout_s=300
files=()
while (($#)); do
  case $1 in
    --timeout) timeout_s=$2; shift ;;
    *) files+=("$1") ;;
  esac
  shift
done

work=$root/target/pyzmq
prefix=$work/prefix
mkdir -p "$work"
cargo build --release -p zlink-mq-capi >&2 || exit 1
capi/install.sh "$prefix" >/dev/null || exit 1

venv=$work/venv
py=$venv/bin/python
if [[ ! -x $py ]]; then
  python3 -m venv "$venv" || exit 1
fi
stamp=$work/built-$pyzmq_version
if [[ ! -f $stamp || $prefix/lib/libzmq.so.5.2.4 -nt $stamp ]]; then
  # pyzmq's build (scikit-build-core + CMake + Cython), then pyzmq itself
  # from its sdist, compiled against our zmq.h and linked to our library.
  "$py" -m pip install -q scikit-build-core cython cmake ninja packaging \
    pytest pytest-asyncio pytest-timeout tornado || exit 1
  (cd "$work" && "$py" -m pip download -q --no-deps --no-binary pyzmq \
    --no-build-isolation "pyzmq==$pyzmq_version") || exit 1
  rm -rf "$work/src" && mkdir -p "$work/src"
  tar xzf "$work/pyzmq-$pyzmq_version.tar.gz" -C "$work/src" || exit 1
  rm -rf "$work/wheel"
  (cd "$work/src/pyzmq-$pyzmq_version" && ZMQ_PREFIX=$prefix "$py" -m pip wheel -q \
    --no-build-isolation --no-deps -w "$work/wheel" .) >"$work/build.log" 2>&1 || {
    echo "pyzmq build failed: $work/build.log"; exit 1; }
  "$py" -m pip install -q --no-deps --force-reinstall "$work"/wheel/pyzmq-*.whl || exit 1
  touch "$stamp"
fi
# Which libzmq the extension loads, and what it says it is.
ext=$(find -L "$venv" -name '_zmq*.so' | head -1)
ldd "$ext" | grep libzmq
"$py" -c 'import zmq; print("pyzmq", zmq.pyzmq_version(), "on libzmq", zmq.zmq_version())'

# The tests run from a copy of the sdist's tests/, outside the source
# tree, so that `import zmq` is the installed one.
run=$work/run
rm -rf "$run" && mkdir -p "$run"
cp -r "$work/src/pyzmq-$pyzmq_version/tests" "$work/src/pyzmq-$pyzmq_version/pytest.ini" "$run/"
((${#files[@]})) || mapfile -t files < <(cd "$run/tests" && ls test_*.py)

tp=0 tf=0 ts=0 te=0
for f in "${files[@]}"; do
  log=$work/${f%.py}.log
  # test_cython compiles an extension that includes zmq.h: ours.
  (cd "$run" && C_INCLUDE_PATH=$prefix/include timeout --kill-after=10 "$timeout_s" "$py" -m pytest -q -p no:cacheprovider \
    --timeout=60 -o addopts= "tests/$f" >"$log" 2>&1)
  rc=$?
  line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|error)|no tests ran' "$log" | tail -1 | tr -d '=')
  count() { grep -oE "[0-9]+ $1" <<<"$line" | grep -oE '^[0-9]+' || echo 0; }
  p=$(count passed) fl=$(count failed) s=$(count skipped) e=$(count error)
  tp=$((tp + p)) tf=$((tf + fl)) ts=$((ts + s)) te=$((te + e))
  ((rc == 124 || rc == 137)) && line="TIMEOUT after ${timeout_s}s $line"
  printf '%-28s %s\n' "$f" "${line:-rc $rc (see $log)}"
done
echo "TOTAL: $tp passed, $tf failed, $te errors, $ts skipped"
