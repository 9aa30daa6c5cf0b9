//! PUB / SUB with topics: a weather station publishes updates for many
//! zip codes; each subscriber follows one zip code (a prefix match on the
//! first frame) and computes an average.
//!
//! ```sh
//! cargo run --example pubsub
//! ```

use std::thread;
use std::time::Duration;

use zlink_mq::{Context, ErrorKind, Flags, SocketType};

const UPDATES_PER_SUBSCRIBER: usize = 20;

fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();
    let mut publisher = ctx.socket(SocketType::Pub)?;
    publisher.bind("tcp://127.0.0.1:*")?;
    let endpoint = publisher.last_endpoint().unwrap_or_default().to_owned();

    let subscribers: Vec<_> = ["10001", "94105"]
        .into_iter()
        .map(|zip| {
            let mut sub = ctx.socket(SocketType::Sub)?;
            sub.connect(&endpoint)?;
            // Topic and body travel as two frames: "10001" | "23 C".
            sub.subscribe(zip.as_bytes())?;
            Ok(thread::spawn(move || -> Result<(), zlink_mq::Error> {
                let mut total = 0i64;
                for _ in 0..UPDATES_PER_SUBSCRIBER {
                    let parts = sub.recv_multipart(Flags::NONE)?;
                    assert_eq!(&parts[0][..], zip.as_bytes());
                    let body = String::from_utf8_lossy(&parts[1]);
                    let celsius: i64 = body.trim_end_matches(" C").parse().unwrap_or(0);
                    total += celsius;
                }
                println!(
                    "zip {zip}: average temperature {} C over {UPDATES_PER_SUBSCRIBER} updates",
                    total / UPDATES_PER_SUBSCRIBER as i64
                );
                Ok(())
            }))
        })
        .collect::<Result<_, zlink_mq::Error>>()?;

    // Publish until every subscriber has what it wants. Subscriptions reach
    // the publisher asynchronously, and a PUB drops what nobody subscribed
    // to, so the first updates may go unseen: keep publishing.
    let ctx_done = ctx.clone();
    let station = thread::spawn(move || -> Result<(), zlink_mq::Error> {
        let zips = ["10001", "60601", "94105", "73301"];
        let mut n = 0u64;
        loop {
            let zip = zips[(n % zips.len() as u64) as usize];
            let celsius = (n * 7 % 35) as i64 - 5;
            match publisher.send_multipart([zip, &format!("{celsius} C")], Flags::NONE) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Terminated => return Ok(()),
                Err(e) => return Err(e),
            }
            n += 1;
            thread::sleep(Duration::from_millis(1));
            if ctx_done.is_terminated() {
                return Ok(());
            }
        }
    });

    for s in subscribers {
        s.join().expect("subscriber thread")?;
    }
    // Everyone is done: stop the station.
    ctx.shutdown();
    station.join().expect("station thread")?;
    Ok(())
}
