//! Endpoint strings, as libzmq writes them: `tcp://host:port`,
//! `ipc://path`, `inproc://name`.

use std::fmt;
use std::path::PathBuf;

use crate::base::error::{Error, ErrorKind, Result};

/// The size of `sockaddr_un.sun_path` on Linux.
const SUN_PATH_LEN: usize = 108;

/// A parsed endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `tcp://host:port`. `host` is an IP address (IPv6 in brackets), a host
    /// name, or `*` (every interface, bind only); `port` is `None` for `*` or
    /// `0` (an ephemeral port, bind only).
    Tcp {
        /// Host name or address, without brackets; `*` for any.
        host: String,
        /// Port; `None` for an ephemeral port.
        port: Option<u16>,
    },
    /// `ipc://path`: a Unix domain socket. `ipc://*` binds to a fresh
    /// temporary path; `ipc://@name` is Linux's abstract namespace.
    Ipc(IpcAddr),
    /// `inproc://name`: sockets of the same context, linked directly.
    Inproc(String),
}

/// The address of an `ipc://` endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IpcAddr {
    /// A file-system path.
    Path(PathBuf),
    /// A name in Linux's abstract namespace (`ipc://@name`).
    Abstract(Vec<u8>),
    /// `ipc://*`: a fresh temporary path chosen at bind time.
    Wildcard,
}

impl Endpoint {
    /// Parses an endpoint string.
    pub fn parse(s: &str) -> Result<Self> {
        let invalid =
            |why: &str| Error::with_text(ErrorKind::InvalidEndpoint, format!("{s:?}: {why}"));
        let (scheme, rest) = s
            .split_once("://")
            .ok_or_else(|| invalid("expected transport://address"))?;
        match scheme {
            "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| invalid("expected host:port"))?;
                let host = if let Some(inner) = host.strip_prefix('[') {
                    inner
                        .strip_suffix(']')
                        .ok_or_else(|| invalid("unbalanced brackets"))?
                } else {
                    host
                };
                if host.is_empty() {
                    return Err(invalid("empty host"));
                }
                if !host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:%*;".contains(&b))
                {
                    // libzmq resolves the host at connect/bind time and so
                    // refuses a name getaddrinfo would refuse (spaces,
                    // control characters, ...); a syntax check gives the
                    // same answer without a name lookup.
                    return Err(invalid("bad host name"));
                }
                if host.contains(';') {
                    return Err(Error::with_text(
                        ErrorKind::InvalidEndpoint,
                        format!("{s:?}: source-address endpoints (src;dest) are not supported"),
                    ));
                }
                let port = match port {
                    "*" | "0" => None,
                    p => Some(p.parse::<u16>().map_err(|_| invalid("bad port"))?),
                };
                Ok(Endpoint::Tcp {
                    host: host.to_owned(),
                    port,
                })
            }
            "ipc" => {
                if rest.is_empty() {
                    return Err(invalid("empty path"));
                }
                if rest == "@" {
                    return Err(invalid("empty abstract name"));
                }
                if rest.len() >= SUN_PATH_LEN {
                    // As libzmq: the path and its NUL must fit `sun_path`.
                    return Err(Error::from(std::io::Error::from_raw_os_error(
                        rustix::io::Errno::NAMETOOLONG.raw_os_error(),
                    )));
                }
                Ok(Endpoint::Ipc(if rest == "*" {
                    IpcAddr::Wildcard
                } else if let Some(name) = rest.strip_prefix('@') {
                    IpcAddr::Abstract(name.as_bytes().to_vec())
                } else {
                    IpcAddr::Path(PathBuf::from(rest))
                }))
            }
            "inproc" => {
                if rest.is_empty() {
                    return Err(invalid("empty name"));
                }
                Ok(Endpoint::Inproc(rest.to_owned()))
            }
            "pgm" | "epgm" | "tipc" | "vmci" | "udp" | "ws" | "wss" | "norm" => Err(
                Error::with_text(ErrorKind::TransportNotSupported, format!("{s:?}")),
            ),
            _ => Err(Error::with_text(
                ErrorKind::TransportNotSupported,
                format!("{s:?}: unknown transport"),
            )),
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port } => {
                let port = port.map_or("*".to_owned(), |p| p.to_string());
                if host.contains(':') {
                    write!(f, "tcp://[{host}]:{port}")
                } else {
                    write!(f, "tcp://{host}:{port}")
                }
            }
            Endpoint::Ipc(IpcAddr::Path(p)) => write!(f, "ipc://{}", p.display()),
            Endpoint::Ipc(IpcAddr::Abstract(n)) => {
                write!(f, "ipc://@{}", String::from_utf8_lossy(n))
            }
            Endpoint::Ipc(IpcAddr::Wildcard) => f.write_str("ipc://*"),
            Endpoint::Inproc(name) => write!(f, "inproc://{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: Option<u16>) -> Endpoint {
        Endpoint::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_what_libzmq_accepts() {
        let ok = [
            ("tcp://127.0.0.1:5555", tcp("127.0.0.1", Some(5555))),
            ("tcp://*:5555", tcp("*", Some(5555))),
            ("tcp://*:*", tcp("*", None)),
            ("tcp://localhost:0", tcp("localhost", None)),
            ("tcp://[::1]:80", tcp("::1", Some(80))),
            (
                "ipc:///tmp/x.sock",
                Endpoint::Ipc(IpcAddr::Path("/tmp/x.sock".into())),
            ),
            ("ipc://*", Endpoint::Ipc(IpcAddr::Wildcard)),
            (
                "ipc://@abs",
                Endpoint::Ipc(IpcAddr::Abstract(b"abs".to_vec())),
            ),
            ("inproc://a/b", Endpoint::Inproc("a/b".into())),
        ];
        for (s, want) in ok {
            assert_eq!(Endpoint::parse(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn rejects_bad_strings_with_the_right_kind() {
        let bad = [
            ("tcp//x:1", ErrorKind::InvalidEndpoint),
            ("tcp://x", ErrorKind::InvalidEndpoint),
            ("tcp://:5", ErrorKind::InvalidEndpoint),
            ("tcp://x:70000", ErrorKind::InvalidEndpoint),
            ("tcp://[::1:5", ErrorKind::InvalidEndpoint),
            ("inproc://", ErrorKind::InvalidEndpoint),
            ("ipc://", ErrorKind::InvalidEndpoint),
            ("ipc://@", ErrorKind::InvalidEndpoint),
            ("tcp://in val id:1234", ErrorKind::InvalidEndpoint),
            ("tcp://a\tb:1234", ErrorKind::InvalidEndpoint),
            ("pgm://x:1", ErrorKind::TransportNotSupported),
            ("foo://x", ErrorKind::TransportNotSupported),
        ];
        for (s, kind) in bad {
            assert_eq!(Endpoint::parse(s).unwrap_err().kind(), kind, "{s}");
        }
    }

    #[test]
    fn displays_back() {
        for s in [
            "tcp://127.0.0.1:5555",
            "tcp://[::1]:80",
            "ipc:///tmp/x",
            "inproc://q",
        ] {
            assert_eq!(Endpoint::parse(s).unwrap().to_string(), s);
        }
    }
}
