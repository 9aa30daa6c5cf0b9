#!/usr/bin/env bash
# Installs zlink-mq's libzmq.so as libzmq would be installed, under PREFIX:
#   PREFIX/lib/libzmq.so.5.2.4, libzmq.so.5 and libzmq.so (links),
#   PREFIX/include/zmq.h, PREFIX/lib/pkgconfig/libzmq.pc
#
#   capi/install.sh PREFIX     (after cargo build --release -p zlink-mq-capi)
#
# Then: LD_LIBRARY_PATH=PREFIX/lib runs an existing libzmq program on
# zlink-mq; PKG_CONFIG_PATH=PREFIX/lib/pkgconfig builds one against it.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:?usage: capi/install.sh PREFIX}
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
prefix=$(cd "$prefix" && pwd)
so=target/release/libzmq.so
[[ -f $so ]] || cargo build --release -p zlink-mq-capi
install -m 755 "$so" "$prefix/lib/libzmq.so.5.2.4"
ln -sf libzmq.so.5.2.4 "$prefix/lib/libzmq.so.5"
ln -sf libzmq.so.5 "$prefix/lib/libzmq.so"
install -m 644 capi/include/zmq.h "$prefix/include/zmq.h"
sed "s|@PREFIX@|$prefix|" capi/libzmq.pc.in >"$prefix/lib/pkgconfig/libzmq.pc"
echo "installed zlink-mq's libzmq under $prefix"
