//! Non-blocking stream sockets: TCP and Unix domain, listening, connecting
//! and the per-connection options; network interfaces by name and the
//! peer credentials of Unix sockets.

use std::io::{self, IoSlice, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, ToSocketAddrs};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::{AddressFamily, SocketAddrAny, SocketAddrUnix, SocketFlags, SocketType, sockopt};

/// EACCES, the value of a monitor event for a connection the accept
/// filters refused.
pub(crate) const EACCES: u32 = Errno::ACCESS.raw_os_error() as u32;

/// Where a stream socket connects or listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Addr {
    Tcp(SocketAddr),
    /// A Unix domain socket path.
    Path(PathBuf),
    /// A name in Linux's abstract namespace.
    Abstract(Vec<u8>),
}

impl Addr {
    fn family(&self) -> AddressFamily {
        match self {
            Addr::Tcp(SocketAddr::V4(_)) => AddressFamily::INET,
            Addr::Tcp(SocketAddr::V6(_)) => AddressFamily::INET6,
            Addr::Path(_) | Addr::Abstract(_) => AddressFamily::UNIX,
        }
    }

    fn to_rustix(&self) -> io::Result<SocketAddrAny> {
        Ok(match self {
            Addr::Tcp(a) => SocketAddrAny::from(*a),
            Addr::Path(p) => SocketAddrAny::from(SocketAddrUnix::new(p.as_path())?),
            Addr::Abstract(n) => SocketAddrAny::from(SocketAddrUnix::new_abstract_name(n)?),
        })
    }
}

/// Resolves the host of a `tcp://` endpoint. `*` is every interface (IPv4,
/// or IPv6 dual-stack when `ipv6` is set); IPv6 results are skipped unless
/// `ipv6` is set, as libzmq does.
pub(crate) fn resolve_tcp(host: &str, port: u16, ipv6: bool) -> io::Result<Vec<SocketAddr>> {
    if host == "*" {
        let ip = if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()?
        .filter(|a| ipv6 || a.is_ipv4())
        .collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("{host} has no usable address"),
        ));
    }
    Ok(addrs)
}

/// Resolves the host of a `tcp://` endpoint to bind: a network
/// interface's name (its first address, IPv6 with `ipv6`), as libzmq
/// takes `tcp://eth0:5555`, else as [`resolve_tcp`].
pub(crate) fn resolve_local(host: &str, port: u16, ipv6: bool) -> io::Result<Vec<SocketAddr>> {
    if host != "*" && host.parse::<IpAddr>().is_err() {
        if let Some(mut addr) = interface_addr(host, ipv6)? {
            addr.set_port(port);
            return Ok(vec![addr]);
        }
    }
    resolve_tcp(host, port, ipv6)
}

/// The address of `tcp://source;...`'s source for a connection to
/// `dest`: `*` (any address), an IP address or a network interface's name
/// (its first address of `dest`'s family), never a name lookup, as libzmq.
/// The source takes `dest`'s family, IPv4 as IPv4-mapped IPv6 where needed,
/// since the socket is `dest`'s.
pub(crate) fn resolve_source(host: &str, port: u16, dest: &SocketAddr) -> io::Result<SocketAddr> {
    let ip = if host == "*" {
        match dest {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }
    } else if let Ok(ip) = host.parse::<IpAddr>() {
        match (ip, dest) {
            (IpAddr::V4(v4), SocketAddr::V6(_)) => IpAddr::V6(v4.to_ipv6_mapped()),
            (IpAddr::V6(v6), SocketAddr::V4(_)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        }
    } else {
        let Some(mut addr) = interface_addr(host, dest.is_ipv6())? else {
            // libzmq's answer for an address it cannot bind.
            return Err(Errno::NODEV.into());
        };
        addr.set_port(port);
        return Ok(addr);
    };
    Ok(SocketAddr::new(ip, port))
}

/// The first address of the network interface `name` of the family asked
/// for (IPv6 with its scope id), as libzmq finds interface names in
/// endpoints (`tcp://lo:5555`); `None` if there is no such interface or
/// it has no such address.
#[allow(unsafe_code)] // the OS layer: getifaddrs, which rustix does not wrap
pub(crate) fn interface_addr(name: &str, ipv6: bool) -> io::Result<Option<SocketAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs stores a list head in `list`, freed below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = None;
    let mut node = list;
    while !node.is_null() {
        // SAFETY: `node` is a node of the list getifaddrs returned, which
        // stays valid until freeifaddrs.
        let ifa = unsafe { &*node };
        node = ifa.ifa_next;
        if ifa.ifa_addr.is_null() {
            continue;
        }
        // SAFETY: every node's name is a NUL-terminated string.
        let ifa_name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) };
        if ifa_name.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: a non-NULL `ifa_addr` points to a sockaddr of the kind
        // its family says.
        let family = i32::from(unsafe { (*ifa.ifa_addr).sa_family });
        if family == libc::AF_INET && !ipv6 {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            found = Some(SocketAddr::new(IpAddr::V4(ip), 0));
            break;
        }
        if family == libc::AF_INET6 && ipv6 {
            // SAFETY: an AF_INET6 address is a sockaddr_in6.
            let sin6 = unsafe { &*ifa.ifa_addr.cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(sin6.sin6_addr.s6_addr);
            found = Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                ip,
                0,
                0,
                sin6.sin6_scope_id,
            )));
            break;
        }
    }
    // SAFETY: `list` came from getifaddrs and is freed once; no reference
    // into it outlives this call.
    unsafe { libc::freeifaddrs(list) };
    Ok(found)
}

/// Binds the socket to a network device (`SO_BINDTODEVICE`, libzmq's
/// ZMQ_BINDTODEVICE): it sends and receives through that device only.
/// Needs CAP_NET_RAW; an unknown device is ENODEV.
#[allow(unsafe_code)] // the OS layer: a socket option rustix does not wrap
fn bind_to_device(fd: BorrowedFd<'_>, device: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the option's value is `device`'s bytes, read for the length
    // given; the descriptor is a socket borrowed for the call.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            device.as_ptr().cast(),
            device.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn stream_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    Ok(rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )?)
}

/// A file's identity: device and inode numbers.
type FileId = (u64, u64);

fn file_id(path: &std::path::Path) -> io::Result<FileId> {
    let st = rustix::fs::stat(path)?;
    #[allow(clippy::useless_conversion)] // the field types differ by target
    Ok((u64::from(st.st_dev), u64::from(st.st_ino)))
}

/// A listening socket.
#[derive(Debug)]
pub(crate) struct Listener {
    fd: OwnedFd,
    unix: bool,
    /// The socket file to remove when the listener goes away, with its
    /// device and inode numbers: a later bind to the same path (after an
    /// unbind, or by another socket) replaces the file, and that one must
    /// not be removed by us.
    path: Option<(PathBuf, FileId)>,
}

impl Listener {
    /// Listens on `addr`. For TCP, a port of 0 picks an ephemeral one, and
    /// `device` binds the socket to a network device first.
    pub(crate) fn bind(addr: &Addr, backlog: u32, device: Option<&str>) -> io::Result<Self> {
        let fd = stream_socket(addr.family())?;
        if let Addr::Tcp(a) = addr {
            if let Some(dev) = device {
                bind_to_device(fd.as_fd(), dev)?;
            }
            sockopt::set_socket_reuseaddr(&fd, true)?;
            if a.is_ipv6() {
                // Dual-stack, as libzmq with ZMQ_IPV6.
                sockopt::set_ipv6_v6only(&fd, false)?;
            }
        }
        rustix::net::bind(&fd, &addr.to_rustix()?)?;
        let path = match addr {
            Addr::Path(p) => Some((p.clone(), file_id(p)?)),
            _ => None,
        };
        let listener = Self {
            fd,
            unix: !matches!(addr, Addr::Tcp(_)),
            path,
        };
        // From here a failure drops the listener, which removes the file.
        rustix::net::listen(&listener.fd, i32::try_from(backlog).unwrap_or(i32::MAX))?;
        Ok(listener)
    }

    /// Listens on a socket the application made and bound (libzmq's
    /// ZMQ_USE_FD). It is made non-blocking, and listening if it was not
    /// yet. Its socket file, if any, stays the application's: it is not
    /// removed when the listener goes away.
    pub(crate) fn from_fd(fd: OwnedFd, backlog: u32) -> io::Result<Self> {
        let unix = sockopt::socket_domain(&fd)? == AddressFamily::UNIX;
        if sockopt::socket_type(&fd)? != SocketType::STREAM {
            return Err(Errno::INVAL.into());
        }
        rustix::io::ioctl_fionbio(&fd, true)?;
        if !sockopt::socket_acceptconn(&fd)? {
            rustix::net::listen(&fd, i32::try_from(backlog).unwrap_or(i32::MAX))?;
        }
        Ok(Self {
            fd,
            unix,
            path: None,
        })
    }

    /// The TCP address actually bound (with the port chosen for port 0).
    pub(crate) fn local_tcp_addr(&self) -> io::Result<SocketAddr> {
        let any = rustix::net::getsockname(&self.fd)?;
        SocketAddr::try_from(any).map_err(|_| io::Error::other("not an IP socket"))
    }

    /// Accepts one pending connection, or `Ok(None)` if there is none.
    pub(crate) fn accept(&self) -> io::Result<Option<Stream>> {
        loop {
            match rustix::net::accept_with(&self.fd, SocketFlags::NONBLOCK | SocketFlags::CLOEXEC) {
                Ok(fd) => return Ok(Some(Stream::from_fd(fd, self.unix))),
                Err(Errno::AGAIN) => return Ok(None),
                Err(Errno::INTR) => continue,
                // The peer gave up before we accepted: not our failure.
                Err(Errno::CONNABORTED) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl AsFd for Listener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Listener {
    /// Closes the listener and removes its socket file while the file is
    /// still ours; the error is the removal's (libzmq reports it as
    /// `ZMQ_EVENT_CLOSE_FAILED`).
    pub(crate) fn close(mut self) -> io::Result<()> {
        self.remove_file()
    }

    fn remove_file(&mut self) -> io::Result<()> {
        if let Some((p, id)) = self.path.take() {
            // libzmq removes the socket file on unbind and close; we do so
            // only while the file is still ours.
            if file_id(&p).is_ok_and(|now| now == id) {
                return std::fs::remove_file(p);
            }
        }
        Ok(())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.remove_file();
    }
}

/// A connection being established (non-blocking `connect`).
#[derive(Debug)]
pub(crate) struct Connecting {
    fd: OwnedFd,
    unix: bool,
}

impl Connecting {
    /// Starts connecting to `addr`. Completion is signalled by the socket
    /// becoming writable; then call [`finish`](Self::finish). For TCP,
    /// `device` binds the socket to a network device and `source` to a
    /// local address first (with SO_REUSEADDR, as libzmq, so that several
    /// connections to different peers share one source port).
    pub(crate) fn start(
        addr: &Addr,
        source: Option<SocketAddr>,
        device: Option<&str>,
    ) -> io::Result<Self> {
        let fd = stream_socket(addr.family())?;
        if matches!(addr, Addr::Tcp(_)) {
            if let Some(dev) = device {
                bind_to_device(fd.as_fd(), dev)?;
            }
            if let Some(src) = source {
                sockopt::set_socket_reuseaddr(&fd, true)?;
                rustix::net::bind(&fd, &SocketAddrAny::from(src))?;
            }
        }
        match rustix::net::connect(&fd, &addr.to_rustix()?) {
            // Unix sockets connect at once; TCP reports progress.
            Ok(()) | Err(Errno::INPROGRESS) | Err(Errno::AGAIN) | Err(Errno::INTR) => Ok(Self {
                fd,
                unix: !matches!(addr, Addr::Tcp(_)),
            }),
            Err(e) => Err(e.into()),
        }
    }

    /// The connection's outcome, once the socket is writable.
    pub(crate) fn finish(self) -> io::Result<Stream> {
        sockopt::socket_error(&self.fd)??;
        Ok(Stream::from_fd(self.fd, self.unix))
    }
}

impl AsFd for Connecting {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// TCP keep-alive settings (`None`: the OS default).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeepAlive {
    pub enabled: Option<bool>,
    pub count: Option<u32>,
    pub idle: Option<Duration>,
    pub interval: Option<Duration>,
}

/// A connected stream socket.
#[derive(Debug)]
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn from_fd(fd: OwnedFd, unix: bool) -> Self {
        if unix {
            Stream::Unix(UnixStream::from(fd))
        } else {
            Stream::Tcp(TcpStream::from(fd))
        }
    }

    /// The credentials of a Unix socket's peer when it connected
    /// (`SO_PEERCRED`): `(pid, uid, gid)`.
    pub(crate) fn peer_cred(&self) -> Option<(i32, u32, u32)> {
        match self {
            Stream::Unix(s) => sockopt::socket_peercred(s)
                .ok()
                .map(|c| (c.pid.as_raw_nonzero().get(), c.uid.as_raw(), c.gid.as_raw())),
            Stream::Tcp(_) => None,
        }
    }

    /// The peer's address, for TCP.
    pub(crate) fn peer_tcp_addr(&self) -> Option<SocketAddr> {
        match self {
            Stream::Tcp(s) => s.peer_addr().ok(),
            Stream::Unix(_) => None,
        }
    }

    /// The peer's IP address as text, as libzmq gives it to a ZAP handler
    /// (no port); empty for IPC.
    pub(crate) fn peer_ip(&self) -> String {
        match self {
            Stream::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            Stream::Unix(_) => String::new(),
        }
    }

    /// The peer's address as libzmq's `Peer-Address` message property
    /// gives it: the IP address for TCP; for IPC `localhost` and the
    /// peer's credentials, `localhost:uid:gid:pid`.
    pub(crate) fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(_) => self.peer_ip(),
            Stream::Unix(_) => match self.peer_cred() {
                Some((pid, uid, gid)) => format!("localhost:{uid}:{gid}:{pid}"),
                None => "localhost".to_owned(),
            },
        }
    }

    /// Applies the per-connection options: TCP_NODELAY always (ZMTP batches
    /// by itself), keep-alive as configured.
    pub(crate) fn configure(&self, keepalive: &KeepAlive) -> io::Result<()> {
        let Stream::Tcp(s) = self else {
            return Ok(());
        };
        s.set_nodelay(true)?;
        if let Some(on) = keepalive.enabled {
            sockopt::set_socket_keepalive(s, on)?;
        }
        if let Some(n) = keepalive.count {
            sockopt::set_tcp_keepcnt(s, n)?;
        }
        if let Some(d) = keepalive.idle {
            sockopt::set_tcp_keepidle(s, d)?;
        }
        if let Some(d) = keepalive.interval {
            sockopt::set_tcp_keepintvl(s, d)?;
        }
        Ok(())
    }

    /// Ends our direction of the stream (the peer reads the end after
    /// everything we wrote) while we can still read.
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(std::net::Shutdown::Write),
            Stream::Unix(s) => s.shutdown(std::net::Shutdown::Write),
        }
    }

    /// After [`shutdown_write`](Self::shutdown_write): reads and discards
    /// what the peer still sends, through `scratch`. `Ok(true)` once the
    /// peer has closed too, `Ok(false)` when nothing more can be read now.
    pub(crate) fn discard_input(&mut self, scratch: &mut [u8]) -> io::Result<bool> {
        loop {
            match self.read(scratch) {
                Ok(0) => return Ok(true),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads at most `max` bytes onto the end of `buf`, within its spare
    /// capacity (no zeroing, no copy through another buffer).
    #[allow(unsafe_code)] // the OS layer: a read into uninitialised memory
    pub(crate) fn read_append(&self, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        let len = buf.len();
        let spare = buf.spare_capacity_mut();
        let max = max.min(spare.len());
        let (filled, _) = loop {
            match rustix::io::read(self, &mut spare[..max]) {
                Err(rustix::io::Errno::INTR) => continue,
                r => break r?,
            }
        };
        let n = filled.len();
        // SAFETY: the kernel initialised the first `n` bytes of the spare
        // capacity (rustix returns exactly the part it filled), and
        // `len + n` is within the capacity.
        unsafe { buf.set_len(len + n) };
        Ok(n)
    }

    /// Bytes we wrote that the peer has not taken yet (`SIOCOUTQ`): not yet
    /// read by the peer's process over a Unix socket, not yet acknowledged
    /// by the peer's kernel over TCP.
    #[allow(unsafe_code)] // the OS layer: an ioctl std and rustix do not wrap
    pub(crate) fn unsent(&self) -> io::Result<usize> {
        const SIOCOUTQ: rustix::ioctl::Opcode = 0x5411;
        // SAFETY: SIOCOUTQ (TIOCOUTQ) is valid on stream sockets and writes
        // one `int`, the output type given here.
        let getter = unsafe { rustix::ioctl::Getter::<SIOCOUTQ, rustix::ffi::c_int>::new() };
        // SAFETY: the descriptor is a socket we own for the call's duration.
        let n = unsafe { rustix::ioctl::ioctl(self.as_fd(), getter) }?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// Writes several buffers with one system call, with `MSG_NOSIGNAL` as
    /// std's own socket `write` does: a peer that is gone (or has shut its
    /// reading side) is an `EPIPE`, never a SIGPIPE. std's
    /// `write_vectored` is a `writev`, which raises SIGPIPE, and a C
    /// program using our libzmq.so keeps its default action, which kills
    /// the process (libzmq's I/O threads block every signal).
    pub(crate) fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let mut no_control = rustix::net::SendAncillaryBuffer::default();
        Ok(rustix::net::sendmsg(
            &*self,
            bufs,
            &mut no_control,
            rustix::net::SendFlags::NOSIGNAL,
        )?)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Stream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_wildcards_and_literals() {
        assert_eq!(
            resolve_tcp("*", 5, false).unwrap(),
            ["0.0.0.0:5".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve_tcp("*", 5, true).unwrap(),
            ["[::]:5".parse::<SocketAddr>().unwrap()]
        );
        assert_eq!(
            resolve_tcp("::1", 7, false).unwrap(),
            ["[::1]:7".parse::<SocketAddr>().unwrap()]
        );
        assert!(
            resolve_tcp("localhost", 1, false)
                .unwrap()
                .iter()
                .all(|a| a.is_ipv4())
        );
    }

    #[test]
    fn sources_take_the_destinations_family_and_interfaces_resolve() {
        let v4: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let v6: SocketAddr = "[::1]:9".parse().unwrap();
        let src = |h, d| resolve_source(h, 7, d).unwrap().to_string();
        assert_eq!(src("*", &v4), "0.0.0.0:7");
        assert_eq!(src("*", &v6), "[::]:7");
        assert_eq!(src("127.0.0.2", &v4), "127.0.0.2:7");
        assert_eq!(src("127.0.0.2", &v6), "[::ffff:127.0.0.2]:7");
        assert_eq!(src("::ffff:127.0.0.2", &v4), "127.0.0.2:7");
        // The loopback interface is `lo` on Linux.
        assert_eq!(src("lo", &v4), "127.0.0.1:7");
        let err = resolve_source("no-such-nic0", 7, &v4).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::NODEV.raw_os_error()));
        assert!(
            resolve_source("localhost", 7, &v4).is_err(),
            "no name lookup"
        );
    }

    #[test]
    fn a_connection_leaves_from_its_source_address_and_port() {
        let l = Listener::bind(&Addr::Tcp("127.0.0.1:0".parse().unwrap()), 10, None).unwrap();
        let dest = l.local_tcp_addr().unwrap();
        // Port 0: the OS picks one; then the same source port for two
        // connections to different listeners, as SO_REUSEADDR allows.
        let first = Connecting::start(&Addr::Tcp(dest), Some("127.0.0.1:0".parse().unwrap()), None)
            .unwrap();
        let port = SocketAddr::try_from(rustix::net::getsockname(&first.fd).unwrap())
            .unwrap()
            .port();
        let l2 = Listener::bind(&Addr::Tcp("127.0.0.1:0".parse().unwrap()), 10, None).unwrap();
        let source = SocketAddr::from(([127, 0, 0, 1], port));
        let second =
            Connecting::start(&Addr::Tcp(l2.local_tcp_addr().unwrap()), Some(source), None)
                .unwrap();
        let mut peers = Vec::new();
        for listener in [&l, &l2] {
            let stream = loop {
                if let Some(s) = listener.accept().unwrap() {
                    break s;
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            let Stream::Tcp(s) = stream else {
                unreachable!()
            };
            peers.push(s.peer_addr().unwrap());
        }
        assert_eq!(peers, [source, source]);
        drop((first, second));
    }

    #[test]
    fn a_bound_socket_of_the_application_is_listened_on() {
        // Bound, blocking, not listening yet: from_fd makes it listen and
        // non-blocking (an accept with nothing pending must not block).
        let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None).unwrap();
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        rustix::net::bind(&fd, &SocketAddrAny::from(any)).unwrap();
        let l = Listener::from_fd(fd, 10).unwrap();
        assert!(l.accept().unwrap().is_none());
        let addr = l.local_tcp_addr().unwrap();
        let _c = Connecting::start(&Addr::Tcp(addr), None, None).unwrap();
        let mut accepted = None;
        for _ in 0..1000 {
            accepted = l.accept().unwrap();
            if accepted.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        assert!(matches!(accepted, Some(Stream::Tcp(_))));
        // Not a stream socket.
        let udp = rustix::net::socket(AddressFamily::INET, SocketType::DGRAM, None).unwrap();
        assert!(Listener::from_fd(udp, 10).is_err());
    }

    #[test]
    fn sockets_are_bound_to_the_device_asked_for() {
        // SO_BINDTODEVICE needs CAP_NET_RAW before Linux 5.7 (the tests
        // run as root here).
        let any = Addr::Tcp("127.0.0.1:0".parse().unwrap());
        let l = Listener::bind(&any, 10, Some("lo")).unwrap();
        let _c =
            Connecting::start(&Addr::Tcp(l.local_tcp_addr().unwrap()), None, Some("lo")).unwrap();
        for err in [
            Listener::bind(&any, 10, Some("no-such-dev0")).unwrap_err(),
            Connecting::start(&any, None, Some("no-such-dev0")).unwrap_err(),
        ] {
            assert_eq!(
                err.raw_os_error(),
                Some(Errno::NODEV.raw_os_error()),
                "{err}"
            );
        }
    }

    #[test]
    fn listen_accept_connect_over_tcp_and_unix() {
        let l = Listener::bind(&Addr::Tcp("127.0.0.1:0".parse().unwrap()), 10, None).unwrap();
        let port = l.local_tcp_addr().unwrap().port();
        assert_ne!(port, 0);
        let c = Connecting::start(
            &Addr::Tcp(SocketAddr::from(([127, 0, 0, 1], port))),
            None,
            None,
        )
        .unwrap();
        let mut accepted = None;
        for _ in 0..100 {
            if let Some(s) = l.accept().unwrap() {
                accepted = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut server = accepted.expect("accepted");
        let mut client = loop {
            std::thread::sleep(Duration::from_millis(5));
            if let Ok(s) = Connecting::finish(Connecting {
                fd: c.fd.try_clone().unwrap(),
                unix: false,
            }) {
                break s;
            }
        };
        client.configure(&KeepAlive::default()).unwrap();
        client.write_all(b"hi").unwrap();
        let mut buf = [0u8; 2];
        loop {
            match server.read_exact(&mut buf) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(&buf, b"hi");

        let path = std::env::temp_dir().join(format!("zlink-net-test-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let l = Listener::bind(&Addr::Path(path.clone()), 10, None).unwrap();
        let c = Connecting::start(&Addr::Path(path.clone()), None, None)
            .unwrap()
            .finish()
            .unwrap();
        assert!(matches!(c, Stream::Unix(_)));
        assert!(l.accept().unwrap().is_some());
        drop(l);
        assert!(!path.exists(), "the socket file goes with the listener");

        // A listener whose path was taken over leaves the new file alone.
        let old = Listener::bind(&Addr::Path(path.clone()), 10, None).unwrap();
        std::fs::remove_file(&path).unwrap();
        let new = Listener::bind(&Addr::Path(path.clone()), 10, None).unwrap();
        drop(old);
        assert!(path.exists(), "the new listener's file stays");
        drop(new);
        assert!(!path.exists());
    }
}
