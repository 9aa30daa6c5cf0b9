//! Socket options: libzmq's `zmq_setsockopt` / `zmq_getsockopt`, one
//! setter and one getter each.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::Duration;

use crate::base::error::{Error, ErrorKind, Result};
use crate::base::filter::AddrMask;
use crate::socket::Socket;
use crate::socket::options::{Options, check_routing_id};
use std::sync::Arc;

use zlink_mq_core::socket_type::SocketType;
use zlink_mq_core::zmtp::curve::SecretKey;

impl Socket {
    /// Sets `ZMQ_SNDHWM`: at most this many outbound messages queue per
    /// peer (0: no limit). As libzmq 4.3, it applies to the peers attached
    /// already too (for inproc, the peer's RCVHWM is added, as at connect).
    pub fn set_sndhwm(&mut self, hwm: u32) {
        let old = self.options.sndhwm;
        self.options.sndhwm = hwm;
        self.change_hwms(Some((old, hwm)), None);
    }

    /// `ZMQ_SNDHWM`.
    pub fn sndhwm(&self) -> u32 {
        self.options.sndhwm
    }

    /// Sets `ZMQ_RCVHWM`: at most this many inbound messages queue per peer
    /// (0: no limit). As libzmq 4.3, it applies to the peers attached
    /// already too (a lower mark once their writer reaches the old one).
    pub fn set_rcvhwm(&mut self, hwm: u32) {
        let old = self.options.rcvhwm;
        self.options.rcvhwm = hwm;
        self.change_hwms(None, Some((old, hwm)));
    }

    /// `ZMQ_RCVHWM`.
    pub fn rcvhwm(&self) -> u32 {
        self.options.rcvhwm
    }

    /// Sets `ZMQ_SNDTIMEO`: how long a blocking send waits (`None`:
    /// forever).
    pub fn set_sndtimeo(&mut self, timeout: Option<Duration>) {
        self.options.sndtimeo = timeout;
    }

    /// `ZMQ_SNDTIMEO`.
    pub fn sndtimeo(&self) -> Option<Duration> {
        self.options.sndtimeo
    }

    /// Sets `ZMQ_RCVTIMEO`: how long a blocking receive waits (`None`:
    /// forever).
    pub fn set_rcvtimeo(&mut self, timeout: Option<Duration>) {
        self.options.rcvtimeo = timeout;
    }

    /// `ZMQ_RCVTIMEO`.
    pub fn rcvtimeo(&self) -> Option<Duration> {
        self.options.rcvtimeo
    }

    /// Sets how long a blocking send or receive busy-waits (spins on the
    /// socket's mailbox, using a core) before it sleeps, when every
    /// endpoint of the socket is inproc and the machine has more than one
    /// core. A peer's answer that arrives while spinning costs no sleep
    /// and no wake-up (a system call on each side, two context switches,
    /// and on a virtual machine often the exit from an idle CPU). The
    /// busy-wait adapts: after busy-waits that found nothing (the peer is
    /// not running, e.g. more runnable threads than cores), the next waits
    /// sleep at once, up to 63 of them. `Duration::ZERO` never spins:
    /// every wait sleeps at once, as libzmq's do (libzmq has no such
    /// option). Default: 20 us.
    pub fn set_inproc_busy_wait(&mut self, spin: Duration) {
        self.options.inproc_busy_wait = spin;
    }

    /// How long a blocking call busy-waits before it sleeps (see
    /// [`Socket::set_inproc_busy_wait`]).
    pub fn inproc_busy_wait(&self) -> Duration {
        self.options.inproc_busy_wait
    }

    /// Sets `ZMQ_LINGER`: how long closing waits for unsent messages to
    /// leave (`None`: until they have).
    pub fn set_linger(&mut self, linger: Option<Duration>) {
        self.options.linger = linger;
    }

    /// `ZMQ_LINGER`.
    pub fn linger(&self) -> Option<Duration> {
        self.options.linger
    }

    /// Sets `ZMQ_ROUTING_ID`: the id this socket announces to its peers
    /// (1 to 255 bytes, not starting with a zero byte).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an invalid id.
    pub fn set_routing_id(&mut self, id: &[u8]) -> Result<()> {
        check_routing_id(id)?;
        self.options.routing_id = Some(id.to_vec());
        Ok(())
    }

    /// `ZMQ_ROUTING_ID`.
    pub fn routing_id(&self) -> Option<&[u8]> {
        self.options.routing_id.as_deref()
    }

    /// Adds `ZMQ_METADATA`: an application property sent to every peer in
    /// the handshake, which a libzmq peer reads with `zmq_msg_gets(name)`
    /// and a zlink-mq peer with [`Msg::property`](crate::base::msg::Msg::property).
    /// As in libzmq the name starts with `X-` and is at most 255 bytes,
    /// the value is not empty, and a name already set keeps its first
    /// value. It applies to connections made after the call.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a name or value libzmq refuses.
    pub fn add_metadata(&mut self, name: &str, value: &str) -> Result<()> {
        if !name.starts_with("X-") || name.len() > 255 || value.is_empty() {
            return Err(ErrorKind::InvalidArgument.into());
        }
        self.options
            .metadata
            .entry(name.to_owned())
            .or_insert_with(|| value.to_owned());
        Ok(())
    }

    /// `ZMQ_METADATA`: the application properties set, sorted by name.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.options
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Sets `ZMQ_CONNECT_ROUTING_ID`: the routing id this ROUTER gives the
    /// peer of its next `connect` (instead of the one the peer announces).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an invalid id.
    pub fn set_connect_routing_id(&mut self, id: &[u8]) -> Result<()> {
        check_routing_id(id)?;
        self.options.connect_routing_id = Some(id.to_vec());
        Ok(())
    }

    pub(super) fn set_routing_flag(&mut self, set: impl FnOnce(&mut Options)) {
        set(&mut self.options);
        self.routing.apply(&self.options);
    }

    /// `ZMQ_ROUTER_MANDATORY`: a ROUTER fails with
    /// [`ErrorKind::HostUnreachable`] (or blocks / [`ErrorKind::WouldBlock`]
    /// when the peer is full) instead of dropping unroutable messages.
    pub fn set_router_mandatory(&mut self, on: bool) {
        self.set_routing_flag(|o| o.router_mandatory = on);
    }

    /// `ZMQ_ROUTER_HANDOVER`: a new peer with a routing id in use takes it
    /// over instead of being refused.
    pub fn set_router_handover(&mut self, on: bool) {
        self.set_routing_flag(|o| o.router_handover = on);
    }

    /// `ZMQ_STREAM_NOTIFY` (on by default): a STREAM socket receives a
    /// message `[routing id, ""]` when a connection opens and when the
    /// peer closes it. Applies to the `bind` and `connect` calls made
    /// after it.
    pub fn set_stream_notify(&mut self, on: bool) {
        self.options.stream_notify = on;
    }

    /// `ZMQ_PROBE_ROUTER`: a ROUTER, DEALER or REQ sends an empty message
    /// to each peer it gets from then on, so that a ROUTER at the other end
    /// learns the connection at once (a REQ's probe is outside its
    /// request / reply cycle, as in libzmq, where REQ inherits it from
    /// DEALER).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] on other socket types.
    pub fn set_probe_router(&mut self, on: bool) -> Result<()> {
        if !matches!(
            self.kind,
            SocketType::Router | SocketType::Dealer | SocketType::Req
        ) {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "PROBE_ROUTER is a ROUTER, DEALER and REQ option",
            ));
        }
        self.set_routing_flag(|o| o.probe_router = on);
        Ok(())
    }

    /// `ZMQ_XPUB_WELCOME_MSG`: an XPUB sends this message to each peer it
    /// gets from then on, before anything else (`None` or an empty
    /// message: none).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] on other socket types.
    pub fn set_xpub_welcome_msg(&mut self, msg: Option<&[u8]>) -> Result<()> {
        if self.kind != SocketType::XPub {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "XPUB_WELCOME_MSG is an XPUB option",
            ));
        }
        self.options.xpub_welcome_msg = msg.filter(|m| !m.is_empty()).map(<[u8]>::to_vec);
        Ok(())
    }

    /// `ZMQ_REQ_CORRELATE`: a REQ matches replies to requests by id.
    pub fn set_req_correlate(&mut self, on: bool) {
        self.set_routing_flag(|o| o.req_correlate = on);
    }

    /// `ZMQ_REQ_RELAXED`: a REQ may send a new request without waiting for
    /// the reply to the last.
    pub fn set_req_relaxed(&mut self, on: bool) {
        self.set_routing_flag(|o| o.req_relaxed = on);
    }

    /// `ZMQ_XPUB_VERBOSE`: an XPUB passes every subscription up, not only
    /// new ones.
    pub fn set_xpub_verbose(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_verbose = on);
    }

    /// `ZMQ_XPUB_VERBOSER`: as verbose, and unsubscriptions too.
    pub fn set_xpub_verboser(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_verboser = on);
    }

    /// `ZMQ_XPUB_NODROP`: a PUB / XPUB blocks (or fails with
    /// [`ErrorKind::WouldBlock`]) instead of dropping when a subscriber is
    /// full.
    pub fn set_xpub_nodrop(&mut self, on: bool) {
        self.set_routing_flag(|o| o.xpub_nodrop = on);
    }

    /// `ZMQ_XPUB_MANUAL`: an XPUB shows the application every subscription
    /// and cancellation of its peers (duplicates included) and applies
    /// none of them; the application decides what the peer of the last
    /// one it received gets, with [`subscribe`](Socket::subscribe) and
    /// [`unsubscribe`](Socket::unsubscribe) on the XPUB itself: a proxy
    /// confirming a subscription upstream first, a last-value cache
    /// sending the current value first. A peer that leaves cancels every
    /// topic it asked for (one cancellation per peer and topic). As in
    /// libzmq, a message an XSUB peer sends upstream is not a
    /// subscription; unlike libzmq's, receiving one does not change whose
    /// subscription `subscribe` then applies to.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] on other socket types.
    pub fn set_xpub_manual(&mut self, on: bool) -> Result<()> {
        if self.kind != SocketType::XPub {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "XPUB_MANUAL is an XPUB option",
            ));
        }
        self.set_routing_flag(|o| o.xpub_manual = on);
        Ok(())
    }

    /// `ZMQ_XPUB_MANUAL`.
    pub fn xpub_manual(&self) -> bool {
        self.options.xpub_manual
    }

    /// `ZMQ_INVERT_MATCHING`: PUB / XPUB / SUB deliver what does *not*
    /// match the subscriptions.
    pub fn set_invert_matching(&mut self, on: bool) {
        self.set_routing_flag(|o| o.invert_matching = on);
    }

    /// `ZMQ_CONFLATE`: keep only the latest message in each peer's queue
    /// (the high-water marks are ignored), on DEALER, PULL, PUSH, PUB and
    /// SUB, as libzmq; other types ignore it. Whole multipart messages are
    /// kept and replaced (libzmq keeps the last frame). Subscriptions are
    /// never conflated. Applies to connections made afterwards; with an
    /// inproc connect made before the bind, the connecting socket's setting
    /// decides.
    pub fn set_conflate(&mut self, on: bool) {
        self.options.conflate = on;
    }

    /// `ZMQ_CONFLATE`.
    pub fn conflate(&self) -> bool {
        self.options.conflate
    }

    /// `ZMQ_IMMEDIATE`: queue messages only to completed connections (a
    /// connecting socket's pipe exists only while connected).
    pub fn set_immediate(&mut self, on: bool) {
        self.options.immediate = on;
    }

    /// `ZMQ_RECONNECT_IVL`: wait this long before reconnecting (`None`:
    /// never reconnect, libzmq's -1).
    pub fn set_reconnect_ivl(&mut self, ivl: Option<Duration>) {
        self.options.reconnect_ivl = ivl;
    }

    /// `ZMQ_RECONNECT_IVL_MAX`: double the reconnect interval after each
    /// failure up to this (`None`: no backoff).
    pub fn set_reconnect_ivl_max(&mut self, max: Option<Duration>) {
        self.options.reconnect_ivl_max = max;
    }

    /// `ZMQ_HEARTBEAT_IVL`: send a PING this often (`None`: never).
    pub fn set_heartbeat_ivl(&mut self, ivl: Option<Duration>) {
        self.options.heartbeat_ivl = ivl;
    }

    /// `ZMQ_HEARTBEAT_TTL`: ask peers to drop us after this much silence.
    pub fn set_heartbeat_ttl(&mut self, ttl: Option<Duration>) {
        self.options.heartbeat_ttl = ttl;
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT`: drop a peer silent this long after a PING
    /// (`None`: the heartbeat interval).
    pub fn set_heartbeat_timeout(&mut self, timeout: Option<Duration>) {
        self.options.heartbeat_timeout = timeout;
    }

    /// `ZMQ_HANDSHAKE_IVL`: drop connections whose handshake takes longer
    /// (`None`: no limit).
    pub fn set_handshake_ivl(&mut self, ivl: Option<Duration>) {
        self.options.handshake_ivl = ivl;
    }

    /// `ZMQ_MAXMSGSIZE`: drop peers that send a larger frame (`None`: no
    /// limit).
    pub fn set_maxmsgsize(&mut self, max: Option<u64>) {
        self.options.maxmsgsize = max;
    }

    /// `ZMQ_TCP_KEEPALIVE` (`None`: the OS default).
    pub fn set_tcp_keepalive(&mut self, on: Option<bool>) {
        self.options.tcp_keepalive = on;
    }

    /// `ZMQ_TCP_KEEPALIVE_CNT`, `_IDLE` and `_INTVL` (`None`: OS default).
    pub fn set_tcp_keepalive_params(
        &mut self,
        count: Option<u32>,
        idle: Option<Duration>,
        interval: Option<Duration>,
    ) {
        self.options.tcp_keepalive_cnt = count;
        self.options.tcp_keepalive_idle = idle;
        self.options.tcp_keepalive_intvl = interval;
    }

    /// `ZMQ_BACKLOG`: pending connections a listener queues.
    pub fn set_backlog(&mut self, backlog: u32) {
        self.options.backlog = backlog;
    }

    /// `ZMQ_IPV6`: resolve and bind IPv6 too (`tcp://*` binds dual-stack).
    pub fn set_ipv6(&mut self, on: bool) {
        self.options.ipv6 = on;
    }

    /// Adds a `ZMQ_TCP_ACCEPT_FILTER`: with filters set, a TCP listener
    /// bound afterwards keeps only the connections from a client in one of
    /// their networks and closes the others at once (the monitor reports
    /// [`AcceptFailed`](crate::transport::monitor::EventKind::AcceptFailed) with
    /// EACCES). A filter is `address` or `address/bits` (CIDR), numeric
    /// only; an IPv6 one needs [`set_ipv6`](Socket::set_ipv6) first, as in
    /// libzmq. Unlike libzmq, an IPv4 filter also matches an IPv4 client
    /// seen through a dual-stack listener (as `::ffff:a.b.c.d`).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a filter libzmq refuses.
    pub fn add_tcp_accept_filter(&mut self, filter: &str) -> Result<()> {
        let mask = AddrMask::parse(filter, self.options.ipv6)?;
        self.options.accept_filters.tcp.push(mask);
        Ok(())
    }

    /// Clears the `ZMQ_TCP_ACCEPT_FILTER`s (libzmq: setting an empty
    /// value): listeners bound afterwards accept every client.
    pub fn clear_tcp_accept_filters(&mut self) {
        self.options.accept_filters.tcp.clear();
    }

    /// The `ZMQ_TCP_ACCEPT_FILTER`s, as `address/bits` (libzmq has no
    /// getter for them).
    pub fn tcp_accept_filters(&self) -> impl Iterator<Item = String> + '_ {
        self.options
            .accept_filters
            .tcp
            .iter()
            .map(AddrMask::to_string)
    }

    /// Adds a `ZMQ_IPC_FILTER_UID`: with IPC filters set, an IPC listener
    /// bound afterwards keeps only the clients (as `SO_PEERCRED` gives them
    /// at connect) whose user id, group id or process id is listed, or
    /// whose user is a member of a listed group, and closes the others at
    /// once (the monitor reports
    /// [`AcceptFailed`](crate::transport::monitor::EventKind::AcceptFailed)
    /// with EACCES).
    pub fn add_ipc_filter_uid(&mut self, uid: u32) {
        self.options.accept_filters.uids.insert(uid);
    }

    /// Adds a `ZMQ_IPC_FILTER_GID` (see
    /// [`add_ipc_filter_uid`](Socket::add_ipc_filter_uid)): a client passes
    /// if the group is its primary one, or, as in libzmq, its user is
    /// listed as a member of the group in the group database (`getpwuid`
    /// and `getgrgid`: /etc/group, or LDAP...). Like libzmq, this is not
    /// the client process's supplementary groups, which `SO_PEERCRED` does
    /// not give.
    pub fn add_ipc_filter_gid(&mut self, gid: u32) {
        self.options.accept_filters.gids.insert(gid);
    }

    /// Adds a `ZMQ_IPC_FILTER_PID` (see
    /// [`add_ipc_filter_uid`](Socket::add_ipc_filter_uid)): the id of the
    /// process that connected.
    pub fn add_ipc_filter_pid(&mut self, pid: i32) {
        self.options.accept_filters.pids.insert(pid);
    }

    /// Clears the `ZMQ_IPC_FILTER_UID`s (libzmq: setting NULL).
    pub fn clear_ipc_filter_uids(&mut self) {
        self.options.accept_filters.uids.clear();
    }

    /// Clears the `ZMQ_IPC_FILTER_GID`s.
    pub fn clear_ipc_filter_gids(&mut self) {
        self.options.accept_filters.gids.clear();
    }

    /// Clears the `ZMQ_IPC_FILTER_PID`s.
    pub fn clear_ipc_filter_pids(&mut self) {
        self.options.accept_filters.pids.clear();
    }

    /// The `ZMQ_IPC_FILTER_UID`s, in increasing order (libzmq has no
    /// getter for them).
    pub fn ipc_filter_uids(&self) -> impl Iterator<Item = u32> + '_ {
        self.options.accept_filters.uids.iter().copied()
    }

    /// The `ZMQ_IPC_FILTER_GID`s, in increasing order.
    pub fn ipc_filter_gids(&self) -> impl Iterator<Item = u32> + '_ {
        self.options.accept_filters.gids.iter().copied()
    }

    /// The `ZMQ_IPC_FILTER_PID`s, in increasing order.
    pub fn ipc_filter_pids(&self) -> impl Iterator<Item = i32> + '_ {
        self.options.accept_filters.pids.iter().copied()
    }

    /// Sets `ZMQ_USE_FD`: the next `tcp://` or `ipc://` [`bind`](Socket::bind)
    /// listens on `fd`, a stream socket the application made and bound
    /// (made listening too if it is not yet, and non-blocking), instead of
    /// making one: a socket inherited from a supervisor such as systemd,
    /// or bound with privileges dropped since. As in libzmq the endpoint's
    /// address is then not bound (for tcp, `last_endpoint` is the socket's
    /// own address; for ipc, the endpoint as given), BINDTODEVICE does not
    /// apply, and an ipc socket file is left to the application (neither
    /// removed before the bind nor after). The socket owns `fd` from here:
    /// `unbind` and `close` close it. libzmq keeps the number for every
    /// later bind; a descriptor is owned once, so here only the next bind
    /// takes it (the C ABI passes it to its next tcp or ipc bind after
    /// each `zmq_setsockopt`). Returns the descriptor set before, if no
    /// bind took it.
    pub fn set_use_fd(&mut self, fd: Option<OwnedFd>) -> Option<OwnedFd> {
        std::mem::replace(&mut self.options.use_fd, fd)
    }

    /// `ZMQ_USE_FD`: the descriptor the next tcp or ipc bind will take.
    pub fn use_fd(&self) -> Option<BorrowedFd<'_>> {
        self.options.use_fd.as_ref().map(AsFd::as_fd)
    }

    /// Sets `ZMQ_BINDTODEVICE`: the tcp sockets of later binds and
    /// connects are bound to this network device (`SO_BINDTODEVICE`), so
    /// that they send and receive through it only, as with VRF devices
    /// (`None`: any device). A bind fails, and a connection attempt fails
    /// and is retried, if the device does not exist (ENODEV) or the
    /// process may not use it (EPERM: before Linux 5.7 it needs
    /// CAP_NET_RAW). Not applied to a [`set_use_fd`](Socket::set_use_fd)
    /// socket, as libzmq.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for a name longer than libzmq's 16
    /// bytes (IFNAMSIZ), empty, or with a zero byte.
    pub fn set_bindtodevice(&mut self, device: Option<&str>) -> Result<()> {
        if device.is_some_and(|d| d.is_empty() || d.len() > 16 || d.contains('\0')) {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "a device name has 1 to 16 bytes, none of them zero",
            ));
        }
        self.options.bindtodevice = device.map(str::to_owned);
        Ok(())
    }

    /// `ZMQ_BINDTODEVICE`.
    pub fn bindtodevice(&self) -> Option<&str> {
        self.options.bindtodevice.as_deref()
    }

    /// Sets `ZMQ_SOCKS_PROXY`: tcp connects made afterwards go through
    /// this SOCKS5 proxy, `host:port`, or `source;host:port` to connect to
    /// it from a local address (`None`: directly). Once connected to the
    /// proxy, the socket asks it to connect to the endpoint's host and
    /// port: an IP address as one, a host name as a name for the proxy to
    /// resolve (it is not looked up here), as libzmq. Authentication as
    /// [`set_socks_username`](Socket::set_socks_username) says. A proxy
    /// that refuses makes the attempt fail and the connection retry.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for an address that is not
    /// `[source;]host:port` (libzmq takes any text and fails at each
    /// connection attempt).
    pub fn set_socks_proxy(&mut self, proxy: Option<&str>) -> Result<()> {
        if let Some(p) = proxy {
            crate::socket::endpoints::parse_socks_proxy(p)?;
        }
        self.options.socks_proxy = proxy.map(str::to_owned);
        Ok(())
    }

    /// `ZMQ_SOCKS_PROXY`.
    pub fn socks_proxy(&self) -> Option<&str> {
        self.options.socks_proxy.as_deref()
    }

    /// Sets `ZMQ_SOCKS_USERNAME` (a draft option of libzmq 4.3): with a
    /// user name, the SOCKS handshake offers the username / password
    /// method (RFC 1929) with it and
    /// [`set_socks_password`](Socket::set_socks_password)'s password;
    /// empty (the default), no authentication.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] beyond 255 bytes.
    pub fn set_socks_username(&mut self, username: &[u8]) -> Result<()> {
        self.options.socks_username = socks_credential(username)?;
        Ok(())
    }

    /// `ZMQ_SOCKS_USERNAME`.
    pub fn socks_username(&self) -> &[u8] {
        &self.options.socks_username
    }

    /// Sets `ZMQ_SOCKS_PASSWORD` (a draft option of libzmq 4.3; see
    /// [`set_socks_username`](Socket::set_socks_username)).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] beyond 255 bytes.
    pub fn set_socks_password(&mut self, password: &[u8]) -> Result<()> {
        self.options.socks_password = socks_credential(password)?;
        Ok(())
    }

    /// `ZMQ_SOCKS_PASSWORD`.
    pub fn socks_password(&self) -> &[u8] {
        &self.options.socks_password
    }

    /// `ZMQ_PLAIN_SERVER`: act as PLAIN server; `authenticator` judges each
    /// client's user name and password (`None` accepts every client, as
    /// libzmq does without a ZAP handler).
    pub fn set_plain_server(
        &mut self,
        authenticator: Option<impl Fn(&[u8], &[u8]) -> bool + Send + Sync + 'static>,
    ) {
        self.clear_curve();
        self.options.plain_server = true;
        self.options.plain_authenticator =
            authenticator.map(|a| Arc::new(a) as Arc<crate::transport::Authenticator>);
    }

    /// `ZMQ_ZAP_DOMAIN`: the domain sent to the ZAP handler (RFC 27) bound
    /// at `inproc://zeromq.zap.01`, at most 255 bytes. With a domain set,
    /// NULL peers are judged by the handler too (as libzmq); PLAIN and
    /// CURVE peers are judged by it whenever one is bound and no
    /// authenticator callback is set.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if longer than 255 bytes.
    pub fn set_zap_domain(&mut self, domain: &[u8]) -> Result<()> {
        if domain.len() > 255 {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "a ZAP domain has at most 255 bytes",
            ));
        }
        self.options.zap_domain = domain.to_vec();
        Ok(())
    }

    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: with no ZAP handler bound, fail the
    /// handshake of peers that would have been asked about (libzmq's
    /// strict mode) instead of letting them in.
    pub fn set_zap_enforce_domain(&mut self, on: bool) {
        self.options.zap_enforce_domain = on;
    }

    /// `ZMQ_PLAIN_USERNAME` and `ZMQ_PLAIN_PASSWORD`: act as PLAIN client
    /// with these credentials (each at most 255 bytes).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] if either is longer than 255 bytes.
    pub fn set_plain_client(&mut self, username: &[u8], password: &[u8]) -> Result<()> {
        if username.len() > 255 || password.len() > 255 {
            return Err(Error::with_text(
                ErrorKind::InvalidArgument,
                "PLAIN user names and passwords have at most 255 bytes",
            ));
        }
        self.options.plain_server = false;
        self.options.plain_username = Some(username.to_vec());
        self.options.plain_password = Some(password.to_vec());
        self.clear_curve();
        Ok(())
    }

    /// `ZMQ_CURVE_SERVER`: act as CURVE server (with the key pair of
    /// [`set_curve_secretkey`](Socket::set_curve_secretkey)); `false`
    /// returns to NULL security, as libzmq. Each client's long-term key is
    /// accepted unless a [`set_curve_authenticator`](Socket::set_curve_authenticator)
    /// callback refuses it (then the client gets ERROR 400).
    pub fn set_curve_server(&mut self, on: bool) {
        self.options.curve_server = on;
        if on {
            self.options.curve_serverkey = None;
            self.clear_plain();
        }
    }

    /// Judges each CURVE client's long-term public key on a CURVE server
    /// (`None`: every key, as libzmq without a ZAP handler). It runs on an
    /// I/O thread; a panic in it refuses the client.
    pub fn set_curve_authenticator(
        &mut self,
        authenticator: Option<impl Fn(&[u8; 32]) -> bool + Send + Sync + 'static>,
    ) {
        self.options.curve_authenticator =
            authenticator.map(|a| Arc::new(a) as Arc<crate::transport::CurveAuthenticator>);
    }

    /// `ZMQ_CURVE_PUBLICKEY`: our long-term public key, 32 bytes or 40 Z85
    /// characters. Optional: connections compute it from the secret key;
    /// the one set here is only what [`curve_publickey`](Socket::curve_publickey)
    /// reports until a secret key is set.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_publickey(&mut self, key: &[u8]) -> Result<()> {
        self.options.curve_publickey = Some(crate::socket::options::curve_key(key)?);
        Ok(())
    }

    /// `ZMQ_CURVE_SECRETKEY`: our long-term secret key, 32 bytes or 40 Z85
    /// characters (kept zeroized on drop).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_secretkey(&mut self, key: &[u8]) -> Result<()> {
        let bytes = zeroize::Zeroizing::new(crate::socket::options::curve_key(key)?);
        self.options.curve_secretkey = Some(SecretKey::from_bytes(*bytes));
        Ok(())
    }

    /// `ZMQ_CURVE_SERVERKEY`: act as CURVE client of the server with this
    /// long-term public key (32 bytes or 40 Z85 characters), with our key
    /// pair from [`set_curve_secretkey`](Socket::set_curve_secretkey).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidArgument`] for another length or bad Z85.
    pub fn set_curve_serverkey(&mut self, key: &[u8]) -> Result<()> {
        self.options.curve_serverkey = Some(crate::socket::options::curve_key(key)?);
        self.options.curve_server = false;
        self.clear_plain();
        Ok(())
    }

    pub(super) fn clear_plain(&mut self) {
        self.options.plain_server = false;
        self.options.plain_username = None;
        self.options.plain_password = None;
    }

    pub(super) fn clear_curve(&mut self) {
        self.options.curve_server = false;
        self.options.curve_serverkey = None;
    }
}

impl Socket {
    /// `ZMQ_ROUTER_MANDATORY`.
    pub fn router_mandatory(&self) -> bool {
        self.options.router_mandatory
    }

    /// `ZMQ_STREAM_NOTIFY`.
    pub fn stream_notify(&self) -> bool {
        self.options.stream_notify
    }

    /// `ZMQ_ROUTER_HANDOVER`.
    pub fn router_handover(&self) -> bool {
        self.options.router_handover
    }

    /// `ZMQ_REQ_CORRELATE`.
    pub fn req_correlate(&self) -> bool {
        self.options.req_correlate
    }

    /// `ZMQ_REQ_RELAXED`.
    pub fn req_relaxed(&self) -> bool {
        self.options.req_relaxed
    }

    /// `ZMQ_XPUB_VERBOSE` (also true with VERBOSER).
    pub fn xpub_verbose(&self) -> bool {
        self.options.xpub_verbose || self.options.xpub_verboser
    }

    /// `ZMQ_XPUB_VERBOSER`.
    pub fn xpub_verboser(&self) -> bool {
        self.options.xpub_verboser
    }

    /// `ZMQ_XPUB_NODROP`.
    pub fn xpub_nodrop(&self) -> bool {
        self.options.xpub_nodrop
    }

    /// `ZMQ_INVERT_MATCHING`.
    pub fn invert_matching(&self) -> bool {
        self.options.invert_matching
    }

    /// `ZMQ_IMMEDIATE`.
    pub fn immediate(&self) -> bool {
        self.options.immediate
    }

    /// `ZMQ_RECONNECT_IVL` (`None`: never reconnect).
    pub fn reconnect_ivl(&self) -> Option<Duration> {
        self.options.reconnect_ivl
    }

    /// `ZMQ_RECONNECT_IVL_MAX` (`None`: no backoff).
    pub fn reconnect_ivl_max(&self) -> Option<Duration> {
        self.options.reconnect_ivl_max
    }

    /// `ZMQ_HEARTBEAT_IVL`.
    pub fn heartbeat_ivl(&self) -> Option<Duration> {
        self.options.heartbeat_ivl
    }

    /// `ZMQ_HEARTBEAT_TTL`.
    pub fn heartbeat_ttl(&self) -> Option<Duration> {
        self.options.heartbeat_ttl
    }

    /// `ZMQ_HEARTBEAT_TIMEOUT` (`None`: the heartbeat interval).
    pub fn heartbeat_timeout(&self) -> Option<Duration> {
        self.options.heartbeat_timeout
    }

    /// `ZMQ_HANDSHAKE_IVL` (`None`: no limit).
    pub fn handshake_ivl(&self) -> Option<Duration> {
        self.options.handshake_ivl
    }

    /// `ZMQ_MAXMSGSIZE` (`None`: no limit).
    pub fn maxmsgsize(&self) -> Option<u64> {
        self.options.maxmsgsize
    }

    /// `ZMQ_TCP_KEEPALIVE` (`None`: the OS default).
    pub fn tcp_keepalive(&self) -> Option<bool> {
        self.options.tcp_keepalive
    }

    /// `ZMQ_BACKLOG`.
    pub fn backlog(&self) -> u32 {
        self.options.backlog
    }

    /// `ZMQ_IPV6`.
    pub fn ipv6(&self) -> bool {
        self.options.ipv6
    }

    /// `ZMQ_PLAIN_SERVER`.
    pub fn plain_server(&self) -> bool {
        self.options.plain_server
    }

    /// `ZMQ_ZAP_DOMAIN`.
    pub fn zap_domain(&self) -> &[u8] {
        &self.options.zap_domain
    }

    /// `ZMQ_ZAP_ENFORCE_DOMAIN`.
    pub fn zap_enforce_domain(&self) -> bool {
        self.options.zap_enforce_domain
    }

    /// `ZMQ_PLAIN_USERNAME`, when the socket is a PLAIN client.
    pub fn plain_username(&self) -> Option<&[u8]> {
        self.options.plain_username.as_deref()
    }

    /// `ZMQ_CURVE_SERVER`.
    pub fn curve_server(&self) -> bool {
        self.options.curve_server
    }

    /// `ZMQ_CURVE_PUBLICKEY`: the public key of our secret key (or the one
    /// set, before a secret key is).
    pub fn curve_publickey(&self) -> Option<[u8; 32]> {
        match &self.options.curve_secretkey {
            Some(secret) => Some(secret.public_key()),
            None => self.options.curve_publickey,
        }
    }

    /// `ZMQ_CURVE_SERVERKEY`, when the socket is a CURVE client.
    pub fn curve_serverkey(&self) -> Option<[u8; 32]> {
        self.options.curve_serverkey
    }
}

/// A SOCKS user name or password: at most 255 bytes (RFC 1929).
fn socks_credential(value: &[u8]) -> Result<Vec<u8>> {
    if value.len() > 255 {
        return Err(Error::with_text(
            ErrorKind::InvalidArgument,
            "SOCKS user names and passwords have at most 255 bytes",
        ));
    }
    Ok(value.to_vec())
}
