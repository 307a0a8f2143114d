//! The event's rooms and programme on the cluster's stream: one subject, `rostrum.programme`,
//! in the same stream as the logs (no second stream, as for the sessions' metadata: see
//! `docs/cluster.md`, "The KV decision"). Each change writes the whole programme as one message,
//! conditional on the subject's last stream sequence, so two nodes changing it at once cannot
//! both win; every node follows the subject and takes each new version as it comes. Older
//! versions stay in the stream (it denies deletes), a record of every change.

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::append::wrong_last_sequence;
use super::{NatsLog, io};
use crate::store::StoreError;

/// The programme's subject in the stream.
pub(super) const PROGRAMME: &str = "rostrum.programme";

/// One version of the programme: its bytes and its stream sequence.
pub type Version = (Bytes, u64);

/// Why a programme was not written.
#[derive(Debug, thiserror::Error)]
pub enum ProgrammeWriteError {
    /// Another node wrote a newer version first: nothing was written.
    #[error(
        "another node changed the programme at the same moment; nothing was changed, try again"
    )]
    Moved,
    /// Larger than one message may be on this NATS server.
    #[error(
        "the programme takes {size} bytes, more than the NATS server's max_payload ({max} bytes); raise max_payload"
    )]
    TooLarge {
        /// Its size.
        size: usize,
        /// The server's limit.
        max: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl NatsLog {
    /// The programme as last written, if ever. Read as a node starts, when a stream just made
    /// may still be electing its leader: a failed read is retried for as long as `connect`
    /// waits for JetStream, rather than stop the node.
    pub async fn programme(&self) -> Result<Option<Version>, StoreError> {
        let deadline = tokio::time::Instant::now() + super::READY_DEADLINE;
        loop {
            match self.last_message(PROGRAMME).await {
                Ok(m) => return Ok(m.map(|m| (m.payload, m.sequence))),
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::info!(error = %e, "waiting for the programme's stream");
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Write a new version of the programme, if the last one is still `expected` (0: none yet).
    /// Its stream sequence.
    pub async fn write_programme(
        &self,
        body: Vec<u8>,
        expected: u64,
    ) -> Result<u64, ProgrammeWriteError> {
        let max = self.js.client().server_info().max_payload;
        // Room for the headers JetStream adds.
        if max > 0 && body.len() + 1024 > max {
            return Err(ProgrammeWriteError::TooLarge {
                size: body.len(),
                max,
            });
        }
        let msg = PublishMessage::build()
            .payload(body.into())
            .expected_last_subject_sequence(expected);
        match self.send(PROGRAMME.to_owned(), msg).await {
            Ok(ack) => Ok(ack.sequence),
            Err(e) if wrong_last_sequence(&e) => Err(ProgrammeWriteError::Moved),
            Err(e) => Err(io(e).into()),
        }
    }

    /// Every version of the programme written after stream sequence `after`, as they come,
    /// through an ordered consumer (the last one first when `after` is 0). The channel ends
    /// with an error when the consumer does.
    pub async fn follow_programme(
        &self,
        after: u64,
    ) -> Result<mpsc::Receiver<Result<Version, StoreError>>, StoreError> {
        let deliver_policy = if after == 0 {
            DeliverPolicy::LastPerSubject
        } else {
            DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            }
        };
        self.follow_subject(
            PROGRAMME.to_owned(),
            deliver_policy,
            4,
            "the programme",
            |msg| match msg.info() {
                Ok(info) => Ok((msg.payload.clone(), info.stream_sequence)),
                Err(e) => Err(io(e.to_string())),
            },
        )
        .await
    }
}
