//! STREAM, after libzmq's `stream.cpp` semantics (routing side only; the
//! raw connections are the std backend's).

use super::*;
use crate::routing::Stream;

type TStream = Stream<Heap, u32, Msg>;

#[test]
fn stream_ignores_announced_ids_and_generates_routers_format() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut stream = TStream::new(0x0102_0304);
    pipes.add(0, 0);
    pipes.add(1, 0);
    stream
        .attach(&mut pipes, 0, PeerIdentity::Announced(b"NAME"))
        .unwrap();
    stream
        .attach(&mut pipes, 1, PeerIdentity::Assigned(b"CONN"))
        .unwrap();
    assert_eq!(stream.routing_id(0), Some(&[0, 1, 2, 3, 4][..]));
    assert_eq!(stream.routing_id(1), Some(&b"CONN"[..]));
    assert_eq!(stream.peer(b"NAME"), None);
    assert_eq!(stream.peer_count(), 2);
}

#[test]
fn stream_prepends_the_routing_id_to_each_chunk() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut stream = TStream::new(7);
    attach_all(&mut stream, &mut pipes, &[0], 0);
    deliver_to(&mut stream, &mut pipes, 0, &[b""]);
    assert_eq!(
        recv_msg(&mut stream, &mut pipes).unwrap(),
        frames(&[&[0, 0, 0, 0, 7], b""])
    );
    deliver_to(&mut stream, &mut pipes, 0, &[b"GET / HTTP/1.0\r\n"]);
    assert_eq!(
        recv_msg(&mut stream, &mut pipes).unwrap(),
        frames(&[&[0, 0, 0, 0, 7], b"GET / HTTP/1.0\r\n"])
    );
    assert_eq!(stream.recv(&mut pipes), Err(RecvError::WouldBlock));
}

#[test]
fn stream_sends_two_frame_messages_and_ignores_the_data_frames_more() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut stream = TStream::new(1);
    attach_all(&mut stream, &mut pipes, &[0], 0);
    let id = stream.routing_id(0).unwrap().to_vec();
    // The data frame carries MORE (as libzmq's tests send it): the message
    // ends there all the same, and the next frame is a routing id again.
    stream.send(&mut pipes, frame(&id, true)).unwrap();
    stream.send(&mut pipes, frame(b"one", true)).unwrap();
    stream.send(&mut pipes, frame(&id, true)).unwrap();
    stream.send(&mut pipes, frame(b"two", false)).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"one"]), frames(&[b"two"])]);
    // The empty frame (close the connection) goes to the pipe too.
    send_msg(&mut stream, &mut pipes, &[&id, b""]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b""])]);
}

#[test]
fn stream_refuses_unknown_ids_and_full_peers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut stream = TStream::new(1);
    attach_all(&mut stream, &mut pipes, &[0], 1);
    let id = stream.routing_id(0).unwrap().to_vec();
    assert!(matches!(
        stream.send(&mut pipes, frame(b"nobody", true)),
        Err(SendError::Unroutable(_))
    ));
    // Refused id frames leave no state behind: the next frame is an id.
    send_msg(&mut stream, &mut pipes, &[&id, b"fills the pipe"]).unwrap();
    assert!(matches!(
        stream.send(&mut pipes, frame(&id, true)),
        Err(SendError::WouldBlock(_))
    ));
    assert_eq!(pipes.take_all(0), [frames(&[b"fills the pipe"])]);
    send_msg(&mut stream, &mut pipes, &[&id, b"again"]).unwrap();
    assert_eq!(pipes.take_all(0), [frames(&[b"again"])]);
    assert!(stream.has_out(&mut pipes));
}

#[test]
fn stream_forgets_detached_peers() {
    let mut pipes = TestPipes::<Msg>::new();
    let mut stream = TStream::new(1);
    attach_all(&mut stream, &mut pipes, &[0, 1], 0);
    let id = stream.routing_id(0).unwrap().to_vec();
    stream.detach(&mut pipes, 0);
    pipes.remove(0);
    assert!(matches!(
        stream.send(&mut pipes, frame(&id, true)),
        Err(SendError::Unroutable(_))
    ));
    assert_eq!(stream.peer_count(), 1);
}
