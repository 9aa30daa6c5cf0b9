//! The bottom layer: vocabulary every other layer uses and nothing here
//! depends on — errors, endpoint parsing, accept filters, the message
//! frame [`msg::Msg`] and the connection properties it carries,
//! the buffer pool, the slab, routing storage and the lock helper.
//!
//! May import: the standard library, `zlink_mq_core` and external crates
//! only; never another module of this crate.

pub(crate) mod bufpool;
pub mod endpoint;
pub mod error;
pub(crate) mod filter;
pub mod msg;
pub mod properties;
pub(crate) mod slab;
pub mod storage;
pub(crate) mod sync;
