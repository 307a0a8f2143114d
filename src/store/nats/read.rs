//! Reading the log: a message decoded and checked, a whole subject read once, and a live
//! session's subject followed as other nodes append to it.

use async_nats::HeaderMap;
use async_nats::jetstream;
use async_nats::jetstream::consumer::{DeliverPolicy, pull::OrderedConfig};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::{
    CRC, FOLLOW_EXPIRES, FROM, NatsLog, REQ, REQUEST_TIMEOUT, SENDER, SEQ, Tail, io, remember,
    subject,
};
use crate::ids::SessionId;
use crate::queue::{Event, Timestamp};
use crate::store::{Appended, Follower, Origin, Recorded, Replay, StoreError, checksum};

pub(super) fn header(h: Option<&HeaderMap>, name: &str) -> Option<u64> {
    h?.get(name)?.as_str().parse().ok()
}

/// One message decoded and checked: its checksum, and that it continues the log at `next`.
pub(super) fn decode(
    id: SessionId,
    msg: &async_nats::Message,
    next: u64,
) -> Result<Appended, StoreError> {
    let damaged = |seq, reason: &str| StoreError::Damaged {
        session: id,
        seq,
        reason: reason.to_owned(),
    };
    let h = msg.headers.as_ref();
    let (Some(from), Some(seq), Some(crc)) = (header(h, FROM), header(h, SEQ), header(h, CRC))
    else {
        return Err(damaged(next, "a message without rostrum headers"));
    };
    if from != next {
        return Err(damaged(next, &format!("the log jumps to seq {from}")));
    }
    if u64::from(checksum(id, from, &msg.payload)) != crc {
        return Err(damaged(from, "checksum mismatch"));
    }
    let events: Vec<Event> =
        serde_json::from_slice(&msg.payload).map_err(|_| damaged(from, "unreadable record"))?;
    // A claim (`EventLog::claim`) holds no events and ends where it starts.
    let claim = events.is_empty() && h.is_some_and(|h| h.get(SENDER).is_some());
    if (events.is_empty() && !claim) || from + events.len() as u64 - 1 != seq {
        return Err(damaged(from, "the events do not match the seqs"));
    }
    Ok(Appended {
        from,
        origin: Origin {
            req: header(h, REQ).unwrap_or(0),
            sender: h.and_then(|h| h.get(SENDER)).map(|v| v.as_str().to_owned()),
        },
        events,
    })
}

impl NatsLog {
    /// Every message on `filter` now, in order, through a short-lived ordered consumer.
    pub(super) async fn read_subject(
        &self,
        filter: String,
        mut each: impl FnMut(&jetstream::Message) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut consumer = self
            .stream
            .create_consumer(OrderedConfig {
                filter_subject: filter,
                deliver_policy: DeliverPolicy::All,
                ..Default::default()
            })
            .await
            .map_err(io)?;
        if consumer.info().await.map_err(io)?.num_pending == 0 {
            return Ok(());
        }
        let mut messages = consumer.messages().await.map_err(io)?;
        loop {
            let msg = match tokio::time::timeout(REQUEST_TIMEOUT * 5, messages.next()).await {
                Ok(Some(Ok(msg))) => msg,
                Ok(Some(Err(e))) => return Err(io(e)),
                Ok(None) => return Err(io("the stream's consumer ended early")),
                Err(_) => return Err(io("reading the stream timed out")),
            };
            each(&msg)?;
            if msg.info().map_err(io)?.pending == 0 {
                return Ok(());
            }
        }
    }

    /// The whole log of a session, with the answers recorded at or after `since`.
    pub(super) async fn read_all(
        &self,
        id: SessionId,
        since: Timestamp,
    ) -> Result<Replay, StoreError> {
        let mut replay = Replay::default();
        let mut tail = None;
        self.read_subject(subject(id), |msg| {
            let batch = decode(id, msg, replay.events.len() as u64 + 1)?;
            tail = Some(Tail {
                seq: batch.seq(),
                stream_seq: msg.info().map_err(io)?.stream_sequence,
            });
            replay.answers.extend(
                Recorded::of(&batch.origin, batch.from, &batch.events).filter(|a| a.at >= since),
            );
            replay.events.extend(batch.events);
            Ok(())
        })
        .await?;
        if let Some(tail) = tail {
            self.remember(id, tail);
        }
        Ok(replay)
    }

    /// A session's appends from after `after` on, as they come, through an ordered consumer.
    pub(super) async fn follow_from(
        &self,
        id: SessionId,
        after: u64,
    ) -> Result<Option<Follower>, StoreError> {
        // Start right after the append `after` ends with, when this node read it; otherwise
        // from the start (the follower skips what the session already has).
        let start = match self.tails.get(&id).map(|t| *t) {
            Some(t) if t.seq == after && t.stream_seq > 0 => DeliverPolicy::ByStartSequence {
                start_sequence: t.stream_seq + 1,
            },
            _ => DeliverPolicy::All,
        };
        let tails = self.tails.clone();
        let rx = self
            .follow_subject(subject(id), start, 256, "the log", move |msg| {
                // Where it continues the log is the actor's to check.
                let from = header(msg.headers.as_ref(), FROM).unwrap_or(0);
                let item = decode(id, msg, from);
                if let (Ok(a), Ok(info)) = (&item, msg.info()) {
                    let tail = Tail {
                        seq: a.seq(),
                        stream_seq: info.stream_sequence,
                    };
                    remember(&tails, id, tail);
                }
                item
            })
            .await?;
        Ok(Some(rx))
    }

    /// The messages on `subject` from `start` on, as they come, each turned into an item by
    /// `item`, through an ordered consumer (which starts again on another server when its own
    /// dies). The channel (`capacity` deep) ends with an error when the consumer does; the task
    /// ends when the receiver is dropped.
    pub(super) async fn follow_subject<T: Send + 'static>(
        &self,
        subject: String,
        start: DeliverPolicy,
        capacity: usize,
        what: &'static str,
        mut item: impl FnMut(&jetstream::Message) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<mpsc::Receiver<Result<T, StoreError>>, StoreError> {
        let consumer = self
            .stream
            .create_consumer(OrderedConfig {
                filter_subject: subject,
                deliver_policy: start,
                max_expires: FOLLOW_EXPIRES,
                ..Default::default()
            })
            .await
            .map_err(io)?;
        let mut messages = consumer.messages().await.map_err(io)?;
        let (tx, rx) = mpsc::channel(capacity);
        tokio::spawn(async move {
            loop {
                let msg = tokio::select! {
                    () = tx.closed() => return,
                    msg = messages.next() => msg,
                };
                let next = match msg {
                    Some(Ok(msg)) => item(&msg),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "following {what}");
                        continue;
                    }
                    None => Err(io(format!("the consumer of {what} ended"))),
                };
                let last = next.is_err();
                if tx.send(next).await.is_err() || last {
                    return;
                }
            }
        });
        Ok(rx)
    }
}
