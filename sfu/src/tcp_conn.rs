//! One ICE-TCP connection's task ([`run`]), spawned by the worker that accepted it, on that
//! worker's runtime: reads RFC 4571 frames and hands them to the worker (one message per read,
//! however many frames it held), and writes what the worker queued for it, framed.
//!
//! The task owns no ICE or WebRTC state: the worker routes the frames through its `Demux` as
//! datagrams with `Protocol::Tcp`, decides when the connection must go, and closes it by
//! dropping the sender of its write queue.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use str0m::net::DatagramSend;
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufWriter};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::frame_decoder::{FrameDecoder, prefix};
use crate::tcp_conns::ConnId;

/// Frames written per wake-up before the writer flushes.
const WRITE_BATCH: usize = 64;
/// A client that stops reading for this long is dropped (its queue is dropping already).
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// From a connection task to its worker.
#[derive(Debug)]
pub(crate) enum TcpIn {
    /// Complete frames, still framed (walk them with `frame_decoder::frames`).
    Frames {
        id: ConnId,
        from: SocketAddr,
        chunk: Bytes,
    },
    /// The task ended: EOF, a socket error, or a frame the decoder refused.
    Ended { id: ConnId, from: SocketAddr },
}

/// Serves one connection until the peer closes it, it breaks the framing, or the worker drops
/// `queue`'s sender. `from` is the canonical remote address the worker knows it by.
pub(crate) async fn run(
    stream: TcpStream,
    id: ConnId,
    from: SocketAddr,
    max_frame: usize,
    to_worker: mpsc::Sender<TcpIn>,
    mut queue: mpsc::Receiver<DatagramSend>,
) {
    let _ = stream.set_nodelay(true);
    let (mut r, w) = stream.into_split();
    let mut w = BufWriter::new(w);
    let mut decoder = FrameDecoder::new(max_frame);
    let mut batch = Vec::with_capacity(WRITE_BATCH);
    let why = loop {
        tokio::select! {
            n = r.read_buf(decoder.buffer()) => match n {
                Ok(0) => break "closed by peer".to_owned(),
                Err(e) => break e.to_string(),
                Ok(_) => match decoder.take() {
                    Err(e) => break e.to_string(),
                    Ok(None) => {}
                    Ok(Some(chunk)) => {
                        // Waiting here is TCP's own back-pressure on the client.
                        if to_worker.send(TcpIn::Frames { id, from, chunk }).await.is_err() {
                            return;
                        }
                    }
                },
            },
            n = queue.recv_many(&mut batch, WRITE_BATCH) => {
                if n == 0 {
                    break "closed by the worker".to_owned();
                }
                match tokio::time::timeout(WRITE_TIMEOUT, write(&mut w, &mut batch)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => break e.to_string(),
                    Err(_) => break "write timed out".to_owned(),
                }
            }
        }
    };
    tracing::debug!(%from, "ice-tcp connection ended: {why}");
    let _ = w.shutdown().await;
    let _ = to_worker.send(TcpIn::Ended { id, from }).await;
}

async fn write(
    w: &mut BufWriter<tokio::net::tcp::OwnedWriteHalf>,
    batch: &mut Vec<DatagramSend>,
) -> std::io::Result<()> {
    for d in batch.drain(..) {
        // The worker sends only what str0m made: always below 65536 bytes.
        if let Some(p) = prefix(&d) {
            w.write_all(&p).await?;
            w.write_all(&d).await?;
        }
    }
    w.flush().await
}
