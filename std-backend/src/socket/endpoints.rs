//! A socket's endpoints: `bind`, `connect`, `unbind` and `disconnect`,
//! what each asks of the transport (a listener or a connecting session on
//! an I/O thread, or the inproc registry), and the [`Owner`] every
//! connection of an endpoint carries: the options it was made with.

use std::sync::Arc;

use zlink_mq_core::routing::PeerId;
use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::zmtp::curve::KeyPair;

use super::{Attachment, Socket};
use crate::base::endpoint::{Endpoint, IpcAddr};
use crate::base::error::{Error, ErrorKind, Result};
use crate::pipe::Notify;
use crate::pipe::handle::NewPeer;
use crate::sys::net::{Addr, KeepAlive, Listener, resolve_local};
use crate::transport::inproc::InprocSide;
use crate::transport::monitor::{Event, EventKind};
use crate::transport::{IoCommand, IoShared, Owner, Security, SocksProxy, Target, wait_done};

impl Socket {
    /// Accepts connections on `endpoint`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidEndpoint`], [`ErrorKind::TransportNotSupported`],
    /// [`ErrorKind::AddrInUse`], [`ErrorKind::Terminated`], ...
    pub fn bind(&mut self, endpoint: &str) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let parsed = Endpoint::parse(endpoint)?;
        self.check_transport(&parsed, endpoint)?;
        let mut io = None;
        let resolved = match parsed {
            Endpoint::Inproc(name) => {
                let side = self.inproc_side();
                let waiting = self.ctx.inproc_bind(side, &name)?;
                for peer in waiting {
                    self.attach(peer);
                }
                endpoint.to_owned()
            }
            Endpoint::Tcp {
                source: Some(_), ..
            } => {
                return Err(Error::with_text(
                    ErrorKind::InvalidEndpoint,
                    format!("{endpoint}: a source address (source;address) is for connect"),
                ));
            }
            Endpoint::Tcp { host, port, .. } => {
                let backlog = self.options.backlog;
                let result = match self.options.use_fd.take() {
                    // As libzmq, the endpoint's address is not used then:
                    // the socket is bound already.
                    Some(fd) => Listener::from_fd(fd, backlog),
                    None => resolve_local(&host, port.unwrap_or(0), self.options.ipv6).and_then(
                        |addrs| {
                            let device = self.options.bindtodevice.as_deref();
                            Listener::bind(&Addr::Tcp(addrs[0]), backlog, device)
                        },
                    ),
                }
                .and_then(|l| {
                    let local = l.local_tcp_addr()?;
                    Ok((l, local))
                });
                let (listener, local) = self.bind_result(endpoint, result)?;
                let resolved = format!("tcp://{local}");
                io = Some(self.listen(listener, &resolved)?);
                resolved
            }
            Endpoint::Ipc(_) if self.options.use_fd.is_some() => {
                // The application's socket, bound to the path already: the
                // file is neither removed first nor at the end (libzmq
                // leaves it to the application).
                let fd = self.options.use_fd.take().expect("checked by the guard");
                let result = Listener::from_fd(fd, self.options.backlog);
                let listener = self.bind_result(endpoint, result)?;
                io = Some(self.listen(listener, endpoint)?);
                endpoint.to_owned()
            }
            Endpoint::Ipc(addr) => {
                let (addr, resolved) = match addr {
                    IpcAddr::Path(p) => {
                        // As libzmq: a stale socket file from an earlier run
                        // does not block the bind.
                        let _ = std::fs::remove_file(&p);
                        (Addr::Path(p), endpoint.to_owned())
                    }
                    IpcAddr::Abstract(name) => (Addr::Abstract(name), endpoint.to_owned()),
                    IpcAddr::Wildcard => {
                        let path = wildcard_ipc_path();
                        let resolved = format!("ipc://{}", path.display());
                        (Addr::Path(path), resolved)
                    }
                };
                let result = Listener::bind(&addr, self.options.backlog, None);
                let listener = self.bind_result(endpoint, result)?;
                io = Some(self.listen(listener, &resolved)?);
                resolved
            }
        };
        self.attachments.push(Attachment {
            endpoint: endpoint.to_owned(),
            resolved: resolved.clone(),
            bound: true,
            io,
        });
        self.last_endpoint = Some(resolved);
        Ok(())
    }

    /// Maps a bind failure to our error and reports it to the monitor.
    fn bind_result<T>(&self, endpoint: &str, result: std::io::Result<T>) -> Result<T> {
        result.map_err(|e| {
            self.emit(
                Event::new(
                    EventKind::BindFailed,
                    e.raw_os_error().unwrap_or(0) as u32,
                    endpoint,
                )
                .because(&e),
            );
            let kind = Error::from(e);
            if kind.kind() == ErrorKind::Io {
                // The OS error itself, whose number the C ABI gives
                // (ENODEV, EACCES, ...).
                return kind;
            }
            let text = format!("{endpoint}: {kind}");
            Error::with_text(kind.kind(), text)
        })
    }

    /// Hands a listener to an I/O thread; returns the thread.
    fn listen(&mut self, listener: Listener, resolved: &str) -> Result<Arc<IoShared>> {
        let io = self.ctx.pick_io()?;
        let owner = self.owner(resolved.to_owned(), None);
        io.mailbox.post(IoCommand::Listen { listener, owner });
        self.emit(Event::new(EventKind::Listening, 0, resolved));
        Ok(io)
    }

    /// What connections made for `endpoint` need to know about us now.
    fn owner(&self, endpoint: String, assigned_routing_id: Option<Vec<u8>>) -> Arc<Owner> {
        let o = &self.options;
        let security = if o.curve_server {
            Security::CurveServer {
                keys: o.curve_secretkey.clone().map(KeyPair::from_secret),
                authenticator: o.curve_authenticator.clone(),
            }
        } else if let Some(server_key) = o.curve_serverkey {
            Security::CurveClient {
                keys: o.curve_secretkey.clone().map(KeyPair::from_secret),
                server_key,
            }
        } else if o.plain_server {
            Security::PlainServer {
                authenticator: o.plain_authenticator.clone(),
            }
        } else if let (Some(u), Some(p)) = (&o.plain_username, &o.plain_password) {
            Security::PlainClient {
                username: u.clone(),
                password: p.clone(),
            }
        } else {
            Security::Null
        };
        Arc::new(Owner {
            socket: self.shared.clone(),
            socket_type: self.kind,
            endpoint,
            routing_id: o.routing_id.clone().unwrap_or_default(),
            metadata: o
                .metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            assigned_routing_id,
            sndhwm: o.sndhwm,
            rcvhwm: o.rcvhwm,
            conflate: self.conflates(),
            reconnect_ivl: o.reconnect_ivl,
            reconnect_ivl_max: o.reconnect_ivl_max,
            heartbeat: zlink_mq_core::zmtp::heartbeat::Heartbeat {
                ivl: o.heartbeat_ivl,
                timeout: o.heartbeat_timeout,
                ttl: o.heartbeat_ttl,
            },
            handshake_ivl: o.handshake_ivl,
            maxmsgsize: o.maxmsgsize,
            keepalive: KeepAlive {
                enabled: o.tcp_keepalive,
                count: o.tcp_keepalive_cnt,
                idle: o.tcp_keepalive_idle,
                interval: o.tcp_keepalive_intvl,
            },
            security,
            zap: crate::transport::zap::ZapConfig {
                registry: self.ctx.inner.inproc.clone(),
                domain: o.zap_domain.clone(),
                enforce_domain: o.zap_enforce_domain,
            },
            monitor: self.monitor.clone(),
            accept_filters: o.accept_filters.clone(),
            stream_notify: o.stream_notify,
            probe_router: o.probe_router && self.probes(),
        })
    }

    fn emit(&self, event: Event) {
        self.monitor.emit(event);
    }

    /// Connects to `endpoint`. As in libzmq, connecting does not wait for
    /// the peer: messages queue (up to the high-water mark) until it is
    /// there, and an inproc connect may precede the bind.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidEndpoint`], [`ErrorKind::TransportNotSupported`],
    /// [`ErrorKind::Terminated`], ...
    pub fn connect(&mut self, endpoint: &str) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        let parsed = Endpoint::parse(endpoint)?;
        self.check_transport(&parsed, endpoint)?;
        let target = match parsed {
            Endpoint::Inproc(name) => {
                let side = self.inproc_side();
                let mut peer = self.ctx.inproc_connect(side, &name)?;
                peer.assigned_routing_id = self.options.connect_routing_id.take();
                self.attach(peer);
                None
            }
            Endpoint::Tcp { host, port, source } => {
                let proxy = self.socks_target(endpoint, source.is_some())?;
                let Some(port) = port else {
                    return Err(Error::with_text(
                        ErrorKind::InvalidEndpoint,
                        format!("{endpoint}: connect needs a port"),
                    ));
                };
                if host == "*" {
                    return Err(Error::with_text(
                        ErrorKind::InvalidEndpoint,
                        format!("{endpoint}: connect needs a host"),
                    ));
                }
                Some(Target::Tcp {
                    host,
                    port,
                    ipv6: self.options.ipv6,
                    source,
                    device: self.options.bindtodevice.clone(),
                    proxy,
                })
            }
            Endpoint::Ipc(IpcAddr::Path(p)) => Some(Target::Ipc(Addr::Path(p))),
            Endpoint::Ipc(IpcAddr::Abstract(n)) => Some(Target::Ipc(Addr::Abstract(n))),
            Endpoint::Ipc(IpcAddr::Wildcard) => {
                return Err(Error::with_text(
                    ErrorKind::InvalidEndpoint,
                    format!("{endpoint}: connect needs a path"),
                ));
            }
        };
        let mut io_thread = None;
        if let Some(target) = target {
            let io = self.ctx.pick_io()?;
            io_thread = Some(io.clone());
            let assigned = self.options.connect_routing_id.take();
            let owner = self.owner(endpoint.to_owned(), assigned);
            // Without IMMEDIATE the peer exists for routing from now on and
            // messages queue for it while the connection is down, as in
            // libzmq. A ROUTER learns its peers' ids only in the handshake,
            // so it attaches them then, unless CONNECT_ROUTING_ID names this
            // one now (as in libzmq, where `test_connect_rid` sends to it
            // right after `connect`). A STREAM peer exists from here too,
            // under its CONNECT_ROUTING_ID or a generated id.
            let pipes = if self.options.immediate
                || (self.kind == SocketType::Router && owner.assigned_routing_id.is_none())
            {
                None
            } else {
                let id = crate::pipe::PipeId::fresh();
                let notify: Arc<dyn Notify> = io.clone();
                let (conflate_out, conflate_in) = self.conflates();
                let (tx, engine_rx) = crate::pipe::pipe(
                    id,
                    u64::from(self.options.sndhwm),
                    conflate_out,
                    self.shared.clone(),
                    notify.clone(),
                );
                let (engine_tx, rx) = crate::pipe::pipe(
                    id,
                    u64::from(self.options.rcvhwm),
                    conflate_in,
                    notify,
                    self.shared.clone(),
                );
                self.attach(NewPeer {
                    tx,
                    rx,
                    routing_id: None,
                    assigned_routing_id: owner.assigned_routing_id.clone(),
                    endpoint: Some(endpoint.to_owned()),
                    probed: false,
                });
                Some((engine_tx, engine_rx))
            };
            io.mailbox.post(IoCommand::Connect {
                target,
                owner,
                pipes: pipes.map(Box::new),
            });
        }
        self.attachments.push(Attachment {
            endpoint: endpoint.to_owned(),
            resolved: endpoint.to_owned(),
            bound: false,
            io: io_thread,
        });
        self.last_endpoint = Some(endpoint.to_owned());
        Ok(())
    }

    /// Stops accepting connections on `endpoint` (as given to `bind`, or as
    /// resolved) and closes the connections accepted through it.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the socket is not bound there.
    pub fn unbind(&mut self, endpoint: &str) -> Result<()> {
        self.detach_endpoint(endpoint, true)
    }

    /// Closes the connection made by `connect(endpoint)`.
    ///
    /// # Errors
    /// [`ErrorKind::NotFound`] if the socket is not connected there.
    pub fn disconnect(&mut self, endpoint: &str) -> Result<()> {
        self.detach_endpoint(endpoint, false)
    }

    fn detach_endpoint(&mut self, endpoint: &str, bound: bool) -> Result<()> {
        self.process_commands();
        self.check_alive()?;
        // As libzmq, a wildcard (`tcp://host:*`, `ipc://*`) names no one
        // endpoint: only the resolved one unbinds.
        let wildcard = bound
            && matches!(
                Endpoint::parse(endpoint),
                Ok(Endpoint::Tcp { port: None, .. } | Endpoint::Ipc(IpcAddr::Wildcard))
            );
        let Some(at) = self.attachments.iter().position(|a| {
            a.bound == bound && (a.resolved == endpoint || (a.endpoint == endpoint && !wildcard))
        }) else {
            return Err(Error::with_text(
                ErrorKind::NotFound,
                format!(
                    "not {} {endpoint}",
                    if bound { "bound to" } else { "connected to" }
                ),
            ));
        };
        let attachment = self.attachments.remove(at);
        match Endpoint::parse(&attachment.resolved) {
            Ok(Endpoint::Inproc(name)) if bound => self.ctx.inproc_unbind(&self.shared, &name)?,
            Ok(Endpoint::Inproc(_)) => {}
            _ => {
                let socket = self.shared.id;
                let endpoint = attachment.resolved.clone();
                if let Some(io) = &attachment.io {
                    if bound {
                        // Wait for the listener to close, so that the
                        // address is free when `unbind` returns (binding it
                        // again at once is common, in tests especially).
                        let (done, closed) = std::sync::mpsc::sync_channel(0);
                        io.mailbox.post(IoCommand::Unbind {
                            socket,
                            endpoint,
                            done,
                        });
                        wait_done(closed);
                    } else {
                        io.mailbox.post(IoCommand::Disconnect { socket, endpoint });
                    }
                }
            }
        }
        let gone: Vec<PeerId> = self
            .peers
            .ids()
            .filter(|&p| {
                self.peers
                    .get(p)
                    .and_then(|peer| peer.endpoint.as_deref())
                    .is_some_and(|e| e == attachment.endpoint || e == attachment.resolved)
            })
            .collect();
        for p in gone {
            self.detach(p);
        }
        Ok(())
    }

    /// The SOCKS proxy a tcp connect goes through, if one is set. A source
    /// address belongs in the proxy's address then (`source;host:port`):
    /// the connection is to the proxy.
    fn socks_target(&self, endpoint: &str, has_source: bool) -> Result<Option<Box<SocksProxy>>> {
        let Some(proxy) = &self.options.socks_proxy else {
            return Ok(None);
        };
        if has_source {
            return Err(Error::with_text(
                ErrorKind::InvalidEndpoint,
                format!(
                    "{endpoint}: with SOCKS_PROXY, a source address goes in the proxy's address"
                ),
            ));
        }
        let (host, port, source) = parse_socks_proxy(proxy)?;
        Ok(Some(Box::new(SocksProxy {
            host,
            port,
            source,
            username: self.options.socks_username.clone(),
            password: self.options.socks_password.clone(),
        })))
    }

    fn inproc_side(&self) -> InprocSide<'_> {
        InprocSide {
            socket: &self.shared,
            routing_id: self.options.routing_id.clone(),
            sndhwm: self.options.sndhwm,
            rcvhwm: self.options.rcvhwm,
            conflate: self.conflates(),
        }
    }

    /// STREAM speaks raw bytes over a byte stream: `tcp://` and `ipc://`
    /// only (an inproc peer has no bytes to give).
    fn check_transport(&self, parsed: &Endpoint, endpoint: &str) -> Result<()> {
        if self.kind == SocketType::Stream && matches!(parsed, Endpoint::Inproc(_)) {
            return Err(Error::with_text(
                ErrorKind::TransportNotSupported,
                format!("{endpoint}: a STREAM socket takes tcp:// or ipc:// endpoints"),
            ));
        }
        Ok(())
    }
}

/// Parses a SOCKS_PROXY address, `host:port` or `source;host:port` (the
/// local address of the connection to the proxy), as a tcp endpoint's.
pub(super) fn parse_socks_proxy(
    proxy: &str,
) -> Result<(String, u16, Option<crate::base::endpoint::TcpSource>)> {
    let invalid = || {
        Error::with_text(
            ErrorKind::InvalidArgument,
            format!("{proxy:?}: a SOCKS proxy is [source;]host:port"),
        )
    };
    match Endpoint::parse(&format!("tcp://{proxy}")) {
        Ok(Endpoint::Tcp {
            host,
            port: Some(port),
            source,
        }) if host != "*" => Ok((host, port, source)),
        _ => Err(invalid()),
    }
}

/// A fresh path for `ipc://*`, in the temporary directory.
fn wildcard_ipc_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    // ORDERING: only uniqueness matters.
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("zlink-mq-{}-{n}.ipc", std::process::id()))
}
