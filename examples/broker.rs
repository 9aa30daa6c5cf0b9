//! A request broker: clients (REQ) talk to a ROUTER frontend, services
//! (REP) to a DEALER backend, and `proxy` moves the messages between them,
//! so clients and services never know each other's addresses and either
//! side can grow.
//!
//! ```sh
//! cargo run --example broker
//! ```

use std::thread;

use zlink_mq::{Context, ErrorKind, Flags, SocketType, proxy};

const CLIENTS: usize = 4;
const SERVICES: usize = 2;
const REQUESTS_PER_CLIENT: usize = 10;

fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();

    let mut frontend = ctx.socket(SocketType::Router)?;
    frontend.bind("tcp://127.0.0.1:*")?;
    let frontend_endpoint = frontend.last_endpoint().unwrap_or_default().to_owned();
    let mut backend = ctx.socket(SocketType::Dealer)?;
    backend.bind("tcp://127.0.0.1:*")?;
    let backend_endpoint = backend.last_endpoint().unwrap_or_default().to_owned();
    println!("clients connect to {frontend_endpoint}, services to {backend_endpoint}");

    // The broker runs until the context is shut down.
    let broker = thread::spawn(move || proxy(&mut frontend, &mut backend, None));

    let services: Vec<_> = (0..SERVICES)
        .map(|id| {
            let mut rep = ctx.socket(SocketType::Rep)?;
            rep.connect(&backend_endpoint)?;
            Ok(thread::spawn(move || {
                let mut served = 0;
                loop {
                    let request = match rep.recv(Flags::NONE) {
                        Ok(m) => m,
                        // The context is shut down: the service ends.
                        Err(e) if e.kind() == ErrorKind::Terminated => return served,
                        Err(e) => panic!("service {id}: {e}"),
                    };
                    let reply = format!("{} (served by {id})", String::from_utf8_lossy(&request));
                    if rep.send(reply.as_str(), Flags::NONE).is_err() {
                        return served;
                    }
                    served += 1;
                }
            }))
        })
        .collect::<Result<_, zlink_mq::Error>>()?;

    let clients: Vec<_> = (0..CLIENTS)
        .map(|id| {
            let mut req = ctx.socket(SocketType::Req)?;
            req.connect(&frontend_endpoint)?;
            Ok(thread::spawn(move || -> Result<(), zlink_mq::Error> {
                for n in 0..REQUESTS_PER_CLIENT {
                    req.send(
                        format!("request {n} from client {id}").as_str(),
                        Flags::NONE,
                    )?;
                    let reply = req.recv(Flags::NONE)?;
                    if n == 0 {
                        println!("client {id} got: {}", String::from_utf8_lossy(&reply));
                    }
                }
                Ok(())
            }))
        })
        .collect::<Result<_, zlink_mq::Error>>()?;

    for c in clients {
        c.join().expect("client thread")?;
    }
    // All requests are answered: shut down; the proxy and the services
    // return with ErrorKind::Terminated.
    ctx.shutdown();
    let stopped = broker.join().expect("broker thread");
    assert_eq!(stopped.map_err(|e| e.kind()), Err(ErrorKind::Terminated));
    let served: usize = services
        .into_iter()
        .map(|s| s.join().expect("service thread"))
        .sum();
    println!("{served} requests served by {SERVICES} services through the broker");
    assert_eq!(served, CLIENTS * REQUESTS_PER_CLIENT);
    Ok(())
}
