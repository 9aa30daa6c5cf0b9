//! Hello world with REQ / REP on tokio: a server task answers "World" to
//! every "Hello", the client awaits each reply. Same exchange as
//! `hello_world`, with `zlink_mq::tokio::AsyncSocket` instead of threads.
//!
//! ```sh
//! cargo run --example async_hello_world --features tokio
//! ```

use zlink_mq::tokio::AsyncSocket;
use zlink_mq::{Context, SocketType};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();

    // The server binds an ephemeral TCP port and answers five requests.
    let mut server = ctx.socket(SocketType::Rep)?;
    server.bind("tcp://127.0.0.1:*")?;
    let endpoint = server.last_endpoint().unwrap_or_default().to_owned();
    println!("server listening on {endpoint}");
    let mut server = AsyncSocket::new(server)?;
    let server = tokio::spawn(async move {
        for _ in 0..5 {
            let request = server.recv().await?;
            println!("server received {:?}", String::from_utf8_lossy(&request));
            server.send("World").await?;
        }
        Ok::<(), zlink_mq::Error>(())
    });

    // The client connects and asks five times; both tasks share one thread.
    let mut client = ctx.socket(SocketType::Req)?;
    client.connect(&endpoint)?;
    let mut client = AsyncSocket::new(client)?;
    for n in 0..5 {
        client.send("Hello").await?;
        let reply = client.recv().await?;
        println!(
            "client got reply {n}: {:?}",
            String::from_utf8_lossy(&reply)
        );
    }

    server.await.expect("server task")?;
    Ok(())
}
