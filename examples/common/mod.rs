//! Code shared by the example programs.

pub mod perf;
