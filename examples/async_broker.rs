//! A request broker on tokio: clients (REQ) talk to a ROUTER frontend,
//! services (REP) to a DEALER backend, and a broker task moves whole
//! messages between the two with `tokio::select!`. Same as `broker`, with
//! tasks instead of threads and the proxy loop written out.
//!
//! The loop relies on the adapter's cancellation safety: each round,
//! `select!` drops the receive that did not win, and a dropped
//! `recv_multipart` has taken nothing, so no message is lost.
//!
//! ```sh
//! cargo run --example async_broker --features tokio
//! ```

use zlink_mq::tokio::AsyncSocket;
use zlink_mq::{Context, ErrorKind, SocketType};

const CLIENTS: usize = 4;
const SERVICES: usize = 2;
const REQUESTS_PER_CLIENT: usize = 10;

/// Forwards messages both ways until the context is shut down.
async fn broker(mut frontend: AsyncSocket, mut backend: AsyncSocket) -> zlink_mq::Result<u64> {
    let mut forwarded = 0u64;
    loop {
        let result = tokio::select! {
            request = frontend.recv_multipart() => match request {
                // [client id, empty, body] goes to a service as it came.
                Ok(parts) => backend.send_multipart(parts).await,
                Err(e) => Err(e),
            },
            reply = backend.recv_multipart() => match reply {
                Ok(parts) => frontend.send_multipart(parts).await,
                Err(e) => Err(e),
            },
        };
        match result {
            Ok(()) => forwarded += 1,
            Err(e) if e.kind() == ErrorKind::Terminated => return Ok(forwarded),
            Err(e) => return Err(e),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();

    let mut frontend = ctx.socket(SocketType::Router)?;
    frontend.bind("tcp://127.0.0.1:*")?;
    let frontend_endpoint = frontend.last_endpoint().unwrap_or_default().to_owned();
    let mut backend = ctx.socket(SocketType::Dealer)?;
    backend.bind("tcp://127.0.0.1:*")?;
    let backend_endpoint = backend.last_endpoint().unwrap_or_default().to_owned();
    println!("clients connect to {frontend_endpoint}, services to {backend_endpoint}");
    let broker = tokio::spawn(broker(
        AsyncSocket::new(frontend)?,
        AsyncSocket::new(backend)?,
    ));

    let mut services = Vec::new();
    for id in 0..SERVICES {
        let mut rep = ctx.socket(SocketType::Rep)?;
        rep.connect(&backend_endpoint)?;
        let mut rep = AsyncSocket::new(rep)?;
        services.push(tokio::spawn(async move {
            let mut served = 0usize;
            loop {
                let request = match rep.recv().await {
                    Ok(m) => m,
                    // The context is shut down: the service ends.
                    Err(e) if e.kind() == ErrorKind::Terminated => return served,
                    Err(e) => panic!("service {id}: {e}"),
                };
                let reply = format!("{} (served by {id})", String::from_utf8_lossy(&request));
                if rep.send(reply.as_bytes()).await.is_err() {
                    return served;
                }
                served += 1;
            }
        }));
    }

    let mut clients = Vec::new();
    for id in 0..CLIENTS {
        let mut req = ctx.socket(SocketType::Req)?;
        req.connect(&frontend_endpoint)?;
        let mut req = AsyncSocket::new(req)?;
        clients.push(tokio::spawn(async move {
            for n in 0..REQUESTS_PER_CLIENT {
                req.send(format!("request {n} from client {id}").as_bytes())
                    .await?;
                let reply = req.recv().await?;
                if n == 0 {
                    println!("client {id} got: {}", String::from_utf8_lossy(&reply));
                }
            }
            Ok::<(), zlink_mq::Error>(())
        }));
    }

    for c in clients {
        c.await.expect("client task")?;
    }
    // All requests are answered: shut down; the broker and the services
    // end with ErrorKind::Terminated.
    ctx.shutdown();
    let forwarded = broker.await.expect("broker task")?;
    let mut served = 0;
    for s in services {
        served += s.await.expect("service task");
    }
    println!(
        "{served} requests served by {SERVICES} services; the broker forwarded {forwarded} messages"
    );
    assert_eq!(served, CLIENTS * REQUESTS_PER_CLIENT);
    assert_eq!(forwarded, 2 * served as u64);
    Ok(())
}
