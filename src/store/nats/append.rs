//! Appending: the conditional publish of a command's events (or a refusal's claim), its
//! retries, and what a duplicate found under the command's message id means.

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use tokio::time::Duration;

use super::read::header;
use super::{APPEND_DEADLINE, CRC, FROM, NatsLog, REQ, SENDER, SEQ, Tail, io, subject};
use crate::ids::SessionId;
use crate::queue::Event;
use crate::store::{Origin, StoreError, checksum};

/// Whether a publish was refused because the subject moved on. Replicated streams on NATS 2.11
/// and later answer this with the "constant" variant of the error (10164), which async-nats 0.51
/// reports as `Other`; taken for a passing fault it was retried for 10 s and answered
/// `unavailable`, and the check that the refusal was this node's own earlier attempt was skipped.
pub(super) fn wrong_last_sequence(e: &PublishError) -> bool {
    use async_nats::jetstream::ErrorCode;
    e.kind() == PublishErrorKind::WrongLastSequence
        || std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<async_nats::jetstream::Error>())
            .is_some_and(|j| j.error_code() == ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT)
}

impl NatsLog {
    /// The log's tail if it ends at `expected`, else `Conflict`. A tail this node knows at or
    /// past `expected` settles it; one behind may be stale, and is read again.
    pub(super) async fn tail_at(&self, id: SessionId, expected: u64) -> Result<Tail, StoreError> {
        let tail = match self.tails.get(&id).map(|t| *t) {
            Some(t) if t.seq >= expected => t,
            _ => self.last(id).await?.0,
        };
        if tail.seq != expected {
            return Err(StoreError::Conflict {
                expected,
                actual: tail.seq,
            });
        }
        Ok(tail)
    }

    /// Publish `events` as the append after `tail`, retrying a publish that got no answer.
    pub(super) async fn publish(
        &self,
        id: SessionId,
        tail: Tail,
        origin: &Origin,
        events: &[Event],
    ) -> Result<u64, StoreError> {
        let body = serde_json::to_vec(events).expect("events serialize");
        let (from, seq) = (tail.seq + 1, tail.seq + events.len() as u64);
        let crc = checksum(id, from, &body);
        // One message id per command with a sender, so that of two copies in flight (the
        // page's resend reached another node) JetStream stores the first and answers the
        // other as a duplicate, within the stream's duplicate window; a refusal's claim uses
        // it too. Other appends get a fresh one.
        let msg_id = match &origin.sender {
            Some(sender) => format!("{id}.{sender}.{}", origin.req),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let deadline = tokio::time::Instant::now() + APPEND_DEADLINE;
        let mut retried = false;
        loop {
            let mut msg = PublishMessage::build()
                .payload(body.clone().into())
                .header(FROM, from.to_string().as_str())
                .header(SEQ, seq.to_string().as_str())
                .header(REQ, origin.req.to_string().as_str())
                .header(CRC, crc.to_string().as_str())
                .message_id(&msg_id)
                .expected_last_subject_sequence(tail.stream_seq);
            if let Some(sender) = &origin.sender {
                msg = msg.header(SENDER, sender.as_str());
            }
            let e = match self.send(subject(id), msg).await {
                Ok(ack) if ack.duplicate => {
                    return self
                        .stored_first(id, ack.sequence, (from, seq), &body)
                        .await;
                }
                Ok(ack) => {
                    self.remember(
                        id,
                        Tail {
                            seq,
                            stream_seq: ack.sequence,
                        },
                    );
                    return Ok(seq);
                }
                Err(e) => e,
            };
            if wrong_last_sequence(&e) {
                // After a retry, the "other" append may be our own first attempt; the message
                // id is the command's, so what was stored under it is read to tell (it may be
                // another node's copy, or a claim).
                let (now, last_id) = self.last(id).await?;
                if retried && last_id == Some(msg_id) {
                    return self
                        .stored_first(id, now.stream_seq, (from, seq), &body)
                        .await;
                }
                return Err(StoreError::Conflict {
                    expected: tail.seq,
                    actual: now.seq,
                });
            }
            let transient = matches!(
                e.kind(),
                PublishErrorKind::TimedOut
                    | PublishErrorKind::BrokenPipe
                    | PublishErrorKind::StreamNotFound
                    | PublishErrorKind::MaxAckPending
                    | PublishErrorKind::Other
            );
            if !transient || tokio::time::Instant::now() >= deadline {
                return Err(io(e));
            }
            tracing::warn!(session = %id, error = %e, "append not acknowledged; retrying");
            retried = true;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// What JetStream stored under this command's message id before the append that found it
    /// a duplicate: this append itself (an attempt whose acknowledgement was lost: its seq),
    /// the same command appended by another node (`Conflict`: its answer comes with the log),
    /// or a refusal's claim, when this copy brings events (`Unavailable`: refused elsewhere
    /// while this copy was in flight, it is not applied; the refused client holds the answer).
    async fn stored_first(
        &self,
        id: SessionId,
        stream_seq: u64,
        (from, seq): (u64, u64),
        body: &[u8],
    ) -> Result<u64, StoreError> {
        const CLAIM: &[u8] = b"[]";
        let m = self.stream.get_raw_message(stream_seq).await.map_err(io)?;
        let same = header(Some(&m.headers), FROM) == Some(from) && m.payload.as_ref() == body;
        if same || (m.payload.as_ref() == CLAIM && body == CLAIM) {
            return Ok(seq);
        }
        if m.payload.as_ref() == CLAIM {
            return Err(StoreError::Unavailable(
                "refused on another node while this copy was in flight".to_owned(),
            ));
        }
        let (now, _) = self.last(id).await?;
        Err(StoreError::Conflict {
            expected: from - 1,
            actual: now.seq,
        })
    }
}
