//! A PUSH / PULL pipeline: a ventilator pushes tasks, workers process them
//! in parallel (PUSH round-robins), and a sink collects the results (PULL
//! fair-queues).
//!
//! ```sh
//! cargo run --example pipeline
//! ```

use std::thread;
use std::time::Duration;

use zlink_mq::{Context, Flags, SocketType};

const TASKS: u32 = 100;
const WORKERS: usize = 3;

fn main() -> Result<(), zlink_mq::Error> {
    let ctx = Context::new();

    // The sink binds first: workers connect to it.
    let mut sink = ctx.socket(SocketType::Pull)?;
    sink.bind("tcp://127.0.0.1:*")?;
    let sink_endpoint = sink.last_endpoint().unwrap_or_default().to_owned();

    let mut ventilator = ctx.socket(SocketType::Push)?;
    ventilator.bind("ipc://*")?;
    let tasks_endpoint = ventilator.last_endpoint().unwrap_or_default().to_owned();

    let workers: Vec<_> = (0..WORKERS)
        .map(|id| {
            let mut tasks = ctx.socket(SocketType::Pull)?;
            tasks.connect(&tasks_endpoint)?;
            let mut results = ctx.socket(SocketType::Push)?;
            results.connect(&sink_endpoint)?;
            Ok(thread::spawn(move || -> Result<u32, zlink_mq::Error> {
                let mut done = 0;
                loop {
                    let task = tasks.recv(Flags::NONE)?;
                    let n = u32::from_le_bytes(task[..].try_into().expect("4-byte task"));
                    if n == u32::MAX {
                        // The end-of-work marker: one per worker.
                        return Ok(done);
                    }
                    // "Work": square the number.
                    let result = u64::from(n) * u64::from(n);
                    results.send_multipart(
                        [&(id as u32).to_le_bytes()[..], &result.to_le_bytes()],
                        Flags::NONE,
                    )?;
                    done += 1;
                }
            }))
        })
        .collect::<Result<_, zlink_mq::Error>>()?;

    // Wait until every worker is connected, or the first ones would get
    // all the tasks (PUSH round-robins over the peers it has).
    while ventilator.peer_count() < WORKERS {
        ventilator.events()?;
        thread::sleep(Duration::from_millis(1));
    }
    for n in 1..=TASKS {
        ventilator.send(&n.to_le_bytes()[..], Flags::NONE)?;
    }
    for _ in 0..WORKERS {
        ventilator.send(&u32::MAX.to_le_bytes()[..], Flags::NONE)?;
    }

    let mut sum = 0u64;
    let mut per_worker = [0u32; WORKERS];
    for _ in 0..TASKS {
        let parts = sink.recv_multipart(Flags::NONE)?;
        let worker = u32::from_le_bytes(parts[0][..].try_into().expect("worker id"));
        per_worker[worker as usize] += 1;
        sum += u64::from_le_bytes(parts[1][..].try_into().expect("result"));
    }
    for w in workers {
        w.join().expect("worker thread")?;
    }
    let expected: u64 = (1..=u64::from(TASKS)).map(|n| n * n).sum();
    println!("sum of squares 1..={TASKS}: {sum} (expected {expected})");
    println!("tasks per worker: {per_worker:?}");
    assert_eq!(sum, expected);
    Ok(())
}
