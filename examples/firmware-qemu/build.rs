//! Puts the board's memory map where cortex-m-rt's `link.x` looks for
//! `memory.x`: `memory-microbit.x` with the `microbit` feature, else
//! `memory-lm3s6965.x`.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let memory = if env::var_os("CARGO_FEATURE_MICROBIT").is_some() {
        "memory-microbit.x"
    } else {
        "memory-lm3s6965.x"
    };
    fs::copy(memory, out.join("memory.x")).expect("the memory map beside Cargo.toml");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-lm3s6965.x");
    println!("cargo:rerun-if-changed=memory-microbit.x");
}
