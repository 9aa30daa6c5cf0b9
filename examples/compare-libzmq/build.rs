//! Compiles the libzmq sources that `zeromq-src` vendors (found through
//! `zmq-sys`'s DEP_ZMQ_OUT) with this crate's `platform.hpp`, and links
//! them into a shared library the `compare` example loads at run time. A
//! shared library loaded with RTLD_LOCAL keeps its `zmq_*` symbols apart
//! from the static libzmq that the `zmq` crate links into tests.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let source =
        PathBuf::from(env::var("DEP_ZMQ_OUT").expect("zmq-sys's DEP_ZMQ_OUT")).join("source");
    println!("cargo:rerun-if-changed=platform.hpp");
    println!("cargo:rerun-if-changed=build.rs");

    let target = env::var("TARGET").expect("TARGET");
    if !target.contains("linux") {
        // compare then reports that no configured libzmq was built.
        println!("cargo:rustc-env=COMPARE_LIBZMQ_SO=");
        return;
    }

    let src = source.join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("libzmq sources")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "cpp"))
        // WebSocket (draft in 4.3.4, and WSS needs GnuTLS) is left out, as
        // distributions leave it: its sources are not guarded by a define.
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("ws"))
        })
        .collect();
    files.sort();

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .files(&files)
        // Distributions build with -O2; so does this, whatever the profile
        // (a debug `cargo test` must not leave an unoptimised libzmq).
        .opt_level(2)
        .debug(false)
        .pic(true)
        .warnings(false)
        .flag("-fvisibility=hidden")
        .flag_if_supported("-std=gnu++11")
        .define("_REENTRANT", None)
        .define("_THREAD_SAFE", None)
        .include(&manifest) // this crate's platform.hpp, found first
        .include(source.join("include"))
        .include(&src)
        .out_dir(out.join("obj"))
        .cargo_metadata(false);
    build.compile("zmq_configured");

    let archive = out.join("obj").join("libzmq_configured.a");
    let so = out.join("libzmq-configured.so.5");
    let compiler = build.get_compiler();
    let status = Command::new(compiler.path())
        .arg("-shared")
        .arg("-o")
        .arg(&so)
        .arg("-Wl,-soname,libzmq.so.5")
        .arg("-Wl,--whole-archive")
        .arg(&archive)
        .arg("-Wl,--no-whole-archive")
        .arg("-pthread")
        .status()
        .expect("running the C++ compiler to link libzmq");
    assert!(status.success(), "linking {} failed", so.display());
    println!("cargo:rustc-env=COMPARE_LIBZMQ_SO={}", so.display());
}
