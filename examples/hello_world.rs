//! Hello world with REQ / REP: a server answers "World" to every "Hello".
//!
//! ```sh
//! cargo run --example hello_world
//! ```

use std::thread;

use zlink_mq::{Context, Flags, SocketType};

fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();

    // The server binds an ephemeral TCP port and answers five requests.
    let mut server = ctx.socket(SocketType::Rep)?;
    server.bind("tcp://127.0.0.1:*")?;
    let endpoint = server.last_endpoint().unwrap_or_default().to_owned();
    println!("server listening on {endpoint}");
    let server = thread::spawn(move || -> Result<(), zlink_mq::Error> {
        for _ in 0..5 {
            let request = server.recv(Flags::NONE)?;
            println!("server received {:?}", String::from_utf8_lossy(&request));
            server.send("World", Flags::NONE)?;
        }
        Ok(())
    });

    // The client connects and asks five times.
    let mut client = ctx.socket(SocketType::Req)?;
    client.connect(&endpoint)?;
    for n in 0..5 {
        client.send("Hello", Flags::NONE)?;
        let reply = client.recv(Flags::NONE)?;
        println!(
            "client got reply {n}: {:?}",
            String::from_utf8_lossy(&reply)
        );
    }

    server.join().expect("server thread")?;
    Ok(())
}
