#![no_std]
#![no_main]
use firmware_qemu as _;
#[cortex_m_rt::entry]
fn main() -> ! { loop {} }
