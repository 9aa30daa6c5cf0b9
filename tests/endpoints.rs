//! Which endpoint strings `bind`, `connect` and `unbind` accept, as libzmq
//! 4.3 does: wildcards do not unbind, over-long IPC paths, the empty
//! abstract name and host names that cannot resolve are refused.

mod common;

use std::error::Error as _;

use common::sock::*;
use zlink_mq::{Context, ErrorKind, SocketType};

#[test]
fn a_wildcard_endpoint_does_not_unbind_only_the_resolved_one_does() {
    let ctx = Context::new();
    for wildcard in ["tcp://127.0.0.1:*", "tcp://127.0.0.1:0", "ipc://*"] {
        let mut s = socket(&ctx, SocketType::Pull);
        s.bind(wildcard).unwrap();
        let resolved = s.last_endpoint().unwrap().to_owned();
        assert_eq!(
            s.unbind(wildcard).unwrap_err().kind(),
            ErrorKind::NotFound,
            "{wildcard}"
        );
        s.unbind(&resolved).unwrap();
        assert_eq!(s.unbind(&resolved).unwrap_err().kind(), ErrorKind::NotFound);
    }
    // An endpoint without a wildcard unbinds by the name it was bound with.
    let mut s = socket(&ctx, SocketType::Pull);
    s.bind("tcp://*:*").unwrap();
    let resolved = s.last_endpoint().unwrap().to_owned();
    let port = resolved.rsplit(':').next().unwrap();
    s.unbind(&resolved).unwrap();
    let named = format!("tcp://*:{port}");
    s.bind(&named).unwrap();
    s.unbind(&named).unwrap();
}

#[test]
fn an_ipc_path_longer_than_sun_path_is_refused_with_enametoolong() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Pair);
    let too_long = format!("ipc://{}", "a".repeat(108));
    for e in [
        s.bind(&too_long).unwrap_err(),
        s.connect(&too_long).unwrap_err(),
    ] {
        let os = e
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .and_then(std::io::Error::raw_os_error);
        assert_eq!(
            os,
            Some(rustix::io::Errno::NAMETOOLONG.raw_os_error()),
            "{e}"
        );
    }
    // 107 bytes and the NUL fit.
    let dir = std::env::temp_dir();
    let name = format!("zlink-endpoints-{}", std::process::id());
    let fill = 107 - dir.as_os_str().len() - 1 - name.len();
    let path = dir.join(format!("{name}{}", "x".repeat(fill)));
    let ep = format!("ipc://{}", path.display());
    assert_eq!(ep.len() - "ipc://".len(), 107);
    s.bind(&ep).unwrap();
    s.unbind(&ep).unwrap();
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_empty_abstract_name_is_invalid() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Pair);
    assert_eq!(
        s.bind("ipc://@").unwrap_err().kind(),
        ErrorKind::InvalidEndpoint
    );
    assert_eq!(
        s.connect("ipc://@").unwrap_err().kind(),
        ErrorKind::InvalidEndpoint
    );
}

#[test]
fn host_names_that_cannot_resolve_are_refused_at_connect() {
    let ctx = Context::new();
    let mut s = socket(&ctx, SocketType::Pub);
    for bad in [
        "tcp://in val id:1234",
        "tcp://tab\there:1234",
        "tcp://",
        "tcp://localhost:invalid",
    ] {
        assert_eq!(
            s.connect(bad).unwrap_err().kind(),
            ErrorKind::InvalidEndpoint,
            "{bad:?}"
        );
    }
    for good in [
        "tcp://localhost:1234",
        "tcp://[::1]:1234",
        "tcp://my-host_1.example:1234",
    ] {
        s.connect(good).unwrap();
    }
}
