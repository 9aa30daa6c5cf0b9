//! PUB / SUB with topics on tokio: a weather station task publishes
//! updates for many zip codes; each subscriber task follows one zip code
//! (a prefix match on the first frame), reads whole messages from the
//! socket's `Stream`, and computes an average. Same as `pubsub`, with
//! tasks instead of threads.
//!
//! ```sh
//! cargo run --example async_pubsub --features tokio
//! ```

use std::time::Duration;

use futures::StreamExt;
use zlink_mq::tokio::AsyncSocket;
use zlink_mq::{Context, SocketType};

const UPDATES_PER_SUBSCRIBER: usize = 20;

#[tokio::main]
async fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();
    let mut publisher = ctx.socket(SocketType::Pub)?;
    publisher.bind("tcp://127.0.0.1:*")?;
    let endpoint = publisher.last_endpoint().unwrap_or_default().to_owned();
    let mut publisher = AsyncSocket::new(publisher)?;

    let mut subscribers = Vec::new();
    for zip in ["10001", "94105"] {
        let mut sub = ctx.socket(SocketType::Sub)?;
        sub.connect(&endpoint)?;
        // Topic and body travel as two frames: "10001" | "23 C".
        sub.subscribe(zip.as_bytes())?;
        let sub = AsyncSocket::new(sub)?;
        subscribers.push(tokio::spawn(async move {
            // The socket is a `Stream` of whole messages.
            let mut updates = sub.take(UPDATES_PER_SUBSCRIBER);
            let mut total = 0i64;
            while let Some(parts) = updates.next().await {
                let parts = parts?;
                assert_eq!(&parts[0][..], zip.as_bytes());
                let body = String::from_utf8_lossy(&parts[1]);
                total += body.trim_end_matches(" C").parse::<i64>().unwrap_or(0);
            }
            println!(
                "zip {zip}: average temperature {} C over {UPDATES_PER_SUBSCRIBER} updates",
                total / UPDATES_PER_SUBSCRIBER as i64
            );
            Ok::<(), zlink_mq::Error>(())
        }));
    }

    // Publish until every subscriber has what it wants. Subscriptions reach
    // the publisher asynchronously, and a PUB drops what nobody subscribed
    // to, so the first updates may go unseen: keep publishing.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let station = tokio::spawn(async move {
        let zips = ["10001", "60601", "94105", "73301"];
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        for n in 0u64.. {
            tokio::select! {
                _ = &mut stopped => break,
                _ = tick.tick() => {}
            }
            let zip = zips[(n % zips.len() as u64) as usize];
            let celsius = (n * 7 % 35) as i64 - 5;
            publisher
                .send_multipart([zip, &format!("{celsius} C")])
                .await?;
        }
        Ok::<(), zlink_mq::Error>(())
    });

    for s in subscribers {
        s.await.expect("subscriber task")?;
    }
    // Everyone is done: stop the station.
    let _ = stop.send(());
    station.await.expect("station task")?;
    Ok(())
}
