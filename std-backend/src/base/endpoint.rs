//! Endpoint strings, as libzmq writes them: `tcp://host:port` (and
//! `tcp://source;host:port` for a connect from a chosen local address),
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
    /// `0` (an ephemeral port, bind only). libzmq's `tcp://source;host:port`
    /// (connect only) names the local address to connect from.
    Tcp {
        /// Host name or address, without brackets; `*` for any.
        host: String,
        /// Port; `None` for an ephemeral port.
        port: Option<u16>,
        /// The local address a connect binds before connecting.
        source: Option<TcpSource>,
    },
    /// `ipc://path`: a Unix domain socket. `ipc://*` binds to a fresh
    /// temporary path; `ipc://@name` is Linux's abstract namespace.
    Ipc(IpcAddr),
    /// `inproc://name`: sockets of the same context, linked directly.
    Inproc(String),
}

/// The source of `tcp://source;host:port`: the local address and port a
/// connection is made from, as libzmq takes it (`*` or `0` for any port;
/// `*`, an IP address or a network interface's name, such as `lo`, for the
/// address; host names are not looked up, as in libzmq).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcpSource {
    /// An IP address without brackets, an interface name, or `*`.
    pub host: String,
    /// The local port; `None` lets the OS choose.
    pub port: Option<u16>,
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
                // As libzmq, the source is what precedes the last `;`.
                let (source, rest) = match rest.rsplit_once(';') {
                    Some((src, dst)) => (Some(src), dst),
                    None => (None, rest),
                };
                let (host, port) = host_port(rest).map_err(invalid)?;
                let source = match source {
                    Some(src) => {
                        let (host, port) =
                            host_port(src).map_err(|why| invalid(&format!("source: {why}")))?;
                        Some(TcpSource { host, port })
                    }
                    None => None,
                };
                Ok(Endpoint::Tcp { host, port, source })
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

/// Splits `host:port` (IPv6 hosts in brackets) and checks both; a port of
/// `*` or `0` is `None`.
fn host_port(s: &str) -> std::result::Result<(String, Option<u16>), &'static str> {
    let (host, port) = s.rsplit_once(':').ok_or("expected host:port")?;
    let host = if let Some(inner) = host.strip_prefix('[') {
        inner.strip_suffix(']').ok_or("unbalanced brackets")?
    } else {
        host
    };
    if host.is_empty() {
        return Err("empty host");
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._:%*".contains(&b))
    {
        // libzmq resolves the host at connect/bind time and so refuses a
        // name getaddrinfo would refuse (spaces, control characters,
        // ...); a syntax check gives the same answer without a name
        // lookup.
        return Err("bad host name");
    }
    let port = match port {
        "*" | "0" => None,
        p => Some(p.parse::<u16>().map_err(|_| "bad port")?),
    };
    Ok((host.to_owned(), port))
}

/// `host:port`, with brackets around an IPv6 host.
fn fmt_host_port(f: &mut fmt::Formatter<'_>, host: &str, port: Option<u16>) -> fmt::Result {
    let port = port.map_or("*".to_owned(), |p| p.to_string());
    if host.contains(':') {
        write!(f, "[{host}]:{port}")
    } else {
        write!(f, "{host}:{port}")
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Tcp { host, port, source } => {
                f.write_str("tcp://")?;
                if let Some(src) = source {
                    fmt_host_port(f, &src.host, src.port)?;
                    f.write_str(";")?;
                }
                fmt_host_port(f, host, *port)
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
            source: None,
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
    fn parses_source_addresses_as_libzmq() {
        let with_source = |src: &str, port, host: &str, dport| Endpoint::Tcp {
            host: host.into(),
            port: Some(dport),
            source: Some(TcpSource {
                host: src.into(),
                port,
            }),
        };
        let ok = [
            (
                "tcp://127.0.0.1:5556;127.0.0.1:5555",
                with_source("127.0.0.1", Some(5556), "127.0.0.1", 5555),
            ),
            (
                "tcp://127.0.0.1:0;localhost:1234",
                with_source("127.0.0.1", None, "localhost", 1234),
            ),
            (
                "tcp://lo:*;localhost:1",
                with_source("lo", None, "localhost", 1),
            ),
            (
                "tcp://[::1]:7;[::1]:8",
                with_source("::1", Some(7), "::1", 8),
            ),
            ("tcp://*:9;h:8", with_source("*", Some(9), "h", 8)),
        ];
        for (s, want) in ok {
            assert_eq!(Endpoint::parse(s).unwrap(), want, "{s}");
        }
        for bad in [
            "tcp://127.0.0.1;127.0.0.1:5555",
            "tcp://:1;h:2",
            "tcp://a:b;h:2",
            "tcp://a:1;b:2;h:3",
            "tcp://a:1;",
        ] {
            assert_eq!(
                Endpoint::parse(bad).unwrap_err().kind(),
                ErrorKind::InvalidEndpoint,
                "{bad}"
            );
        }
    }

    #[test]
    fn displays_back() {
        for s in [
            "tcp://127.0.0.1:5556;127.0.0.1:5555",
            "tcp://[::1]:*;[::1]:80",
            "tcp://127.0.0.1:5555",
            "tcp://[::1]:80",
            "ipc:///tmp/x",
            "inproc://q",
        ] {
            assert_eq!(Endpoint::parse(s).unwrap().to_string(), s);
        }
    }
}
