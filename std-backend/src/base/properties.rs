//! What a received message says about the connection it came from: libzmq's
//! message metadata, read with `zmq_msg_gets`.
//!
//! A connection builds one [`Properties`] when its handshake completes and
//! every frame it delivers shares it (see [`Msg::properties`]):
//!
//! | Name | Value | From |
//! | --- | --- | --- |
//! | `Peer-Address` | the peer's IP address (TCP); `localhost:uid:gid:pid` (IPC) | the OS |
//! | `User-Id` | what the ZAP handler named the peer | the ZAP reply |
//! | any other name | the ZAP handler's metadata | the ZAP reply |
//! | `Socket-Type`, `Identity`, `X-...` | the peer's READY properties | the peer |
//!
//! As in libzmq, a name given twice keeps its first value (the OS's, then
//! ZAP's, then the peer's: a peer cannot claim a `User-Id`), names are
//! matched exactly, and `Identity` falls back to `Routing-Id`. Inproc
//! messages have no properties (libzmq's neither).
//!
//! [`Msg::properties`]: crate::base::msg::Msg::properties

use std::ffi::CStr;
use std::fmt;

/// The peer's address (`Peer-Address`).
pub const PEER_ADDRESS: &str = "Peer-Address";
/// The name the ZAP handler gave the peer (`User-Id`).
pub const USER_ID: &str = "User-Id";

/// The properties of the connection a message came from (see the module
/// doc).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// Names and values, each value followed by a NUL so that C callers get
    /// a C string without a copy.
    entries: Vec<(Box<str>, Box<[u8]>)>,
    source_fd: Option<i32>,
}

impl Properties {
    /// No properties yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `name` unless it is already there (the first value stays, as in
    /// libzmq's property map).
    pub fn insert(&mut self, name: &str, value: &[u8]) {
        if self.entries.iter().any(|(n, _)| &**n == name) {
            return;
        }
        let mut v = Vec::with_capacity(value.len() + 1);
        v.extend_from_slice(value);
        v.push(0);
        self.entries.push((name.into(), v.into_boxed_slice()));
    }

    fn find(&self, name: &str) -> Option<&[u8]> {
        let found = self.entries.iter().find(|(n, _)| &**n == name);
        match found {
            Some((_, v)) => Some(v),
            // libzmq keeps answering the name 4.2 used for routing ids.
            None if name == "Identity" => self.find("Routing-Id"),
            None => None,
        }
    }

    /// The value of `name`, if the connection has it.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.find(name).map(|v| &v[..v.len() - 1])
    }

    /// The value of `name` as a C string (up to its first NUL, as a C
    /// caller of libzmq sees it).
    pub fn get_c(&self, name: &str) -> Option<&CStr> {
        self.find(name)
            .and_then(|v| CStr::from_bytes_until_nul(v).ok())
    }

    /// Every property, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.entries.iter().map(|(n, v)| (&**n, &v[..v.len() - 1]))
    }

    /// How many properties there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file descriptor of the connection's socket (libzmq's deprecated
    /// `ZMQ_SRCFD`), while the connection lasts.
    pub fn source_fd(&self) -> Option<i32> {
        self.source_fd
    }

    /// Records the connection's file descriptor.
    pub fn set_source_fd(&mut self, fd: i32) {
        self.source_fd = Some(fd);
    }
}

impl fmt::Debug for Properties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (n, v) in self.iter() {
            m.entry(&n, &String::from_utf8_lossy(v));
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_of_a_name_stays() {
        let mut p = Properties::new();
        p.insert("User-Id", b"alice");
        p.insert("User-Id", b"mallory");
        assert_eq!(p.get("User-Id"), Some(&b"alice"[..]));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn names_match_exactly_and_identity_falls_back_to_routing_id() {
        let mut p = Properties::new();
        p.insert("Routing-Id", b"r1");
        p.insert("Socket-Type", b"DEALER");
        assert_eq!(p.get("socket-type"), None);
        assert_eq!(p.get("Identity"), Some(&b"r1"[..]));
        p.insert("Identity", b"id");
        assert_eq!(p.get("Identity"), Some(&b"id"[..]));
    }

    #[test]
    fn c_strings_end_at_the_first_nul() {
        let mut p = Properties::new();
        p.insert("X-Bin", b"ab\0cd");
        p.insert("X-Empty", b"");
        assert_eq!(p.get("X-Bin"), Some(&b"ab\0cd"[..]));
        assert_eq!(p.get_c("X-Bin").unwrap().to_bytes(), b"ab");
        assert_eq!(p.get_c("X-Empty").unwrap().to_bytes(), b"");
        assert!(p.get_c("X-None").is_none());
        let all: Vec<_> = p.iter().collect();
        assert_eq!(all, [("X-Bin", &b"ab\0cd"[..]), ("X-Empty", &b""[..])]);
    }
}
