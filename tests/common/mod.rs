//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod raw;
pub mod sock;
pub mod zmtp;
