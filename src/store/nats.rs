//! The cluster's event log: NATS JetStream, shared by every rostrum node.
//!
//! One stream, `ROSTRUM`, holds every session's log, one subject per session
//! (`rostrum.events.<session>`). A message is one append, whole: its events as a JSON array, with
//! the domain seqs in headers (`Rostrum-From`, `Rostrum-Seq`), the request id of the command that
//! made them (`Rostrum-Req`), the sender's key when its answer is kept for resends
//! (`Rostrum-Sender`: the answer is the message itself, so it is recorded exactly when the
//! events are) and a CRC-32 over session, first seq and body (`Rostrum-Crc`).
//! Session metadata is one message per session on `rostrum.sessions.<session>` in the same
//! stream, written once (conditional on the subject being empty); the event's programme, whole,
//! on `rostrum.programme` (`nats/programme.rs`).
//!
//! An append is conditional on the subject's last stream sequence
//! (`Nats-Expected-Last-Subject-Sequence`), so two nodes deciding on the same copy of a session
//! cannot both append: the second is refused and told the log moved on. Each attempt carries a
//! fresh `Nats-Msg-Id`, repeated on its own retries only: a retry after a lost acknowledgement is
//! suppressed as a duplicate instead of stored twice. Live sessions follow their subject with an
//! ordered consumer, so every node sees every append, in order.

use std::sync::Arc;
use std::time::Duration;

use async_nats::ServerAddr;
use async_nats::jetstream;
use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::{PublishMessage, StreamMessage};
use async_nats::jetstream::publish::PublishAck;
use async_nats::jetstream::stream::{self, LastRawMessageErrorKind};
use dashmap::DashMap;

use super::{EventLog, Follower, Origin, Recorded, Replay, SessionMeta, StoreError, StoreFuture};
use crate::ids::SessionId;
use crate::queue::{Event, Timestamp};

mod append;
mod programme;
mod read;

pub use programme::{ProgrammeWriteError, Version};

use read::header;

const STREAM: &str = "ROSTRUM";
const FROM: &str = "Rostrum-From";
const SEQ: &str = "Rostrum-Seq";
const REQ: &str = "Rostrum-Req";
const SENDER: &str = "Rostrum-Sender";
const CRC: &str = "Rostrum-Crc";
const MSG_ID: &str = "Nats-Msg-Id";
/// How long an append keeps retrying a publish that got no acknowledgement (a server died, a
/// stream leader is being elected) before the command is answered `unavailable`.
const APPEND_DEADLINE: Duration = Duration::from_secs(10);
/// The wait for one acknowledgement or API answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// How long `connect` waits for JetStream to be ready (a cluster electing its leader).
const READY_DEADLINE: Duration = Duration::from_secs(30);
/// The longest a follower's pull waits: its server heartbeats at half of it, and two missed
/// heartbeats (a dead server) make the consumer start again on a live one.
const FOLLOW_EXPIRES: Duration = Duration::from_secs(3);

/// Where and how to keep the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatsOptions {
    /// Server URLs, comma-separated (`nats://a:4222,nats://b:4222`): any one will do, the client
    /// learns the rest of the cluster from it.
    pub urls: String,
    /// Copies of the stream (1, or 3 in a three-server cluster).
    pub replicas: usize,
}

/// The last append this node knows of a session: its last domain seq, and the message's stream
/// sequence (what a conditional append names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tail {
    seq: u64,
    stream_seq: u64,
}

impl Tail {
    /// An empty log.
    const NONE: Tail = Tail {
        seq: 0,
        stream_seq: 0,
    };
}

/// The JetStream event log.
pub struct NatsLog {
    js: jetstream::Context,
    stream: stream::Stream,
    tails: Arc<DashMap<SessionId, Tail>>,
}

fn io(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::io_at("NATS", e)
}

fn subject(id: SessionId) -> String {
    format!("rostrum.events.{id}")
}

fn meta_subject(id: SessionId) -> String {
    format!("rostrum.sessions.{id}")
}

impl NatsLog {
    /// Connect, and create the stream if it is missing. Waits (bounded) for servers that are
    /// still starting or a cluster that is still electing its leader.
    pub async fn connect(opts: &NatsOptions) -> Result<Self, StoreError> {
        let addrs = opts
            .urls
            .split(',')
            .map(|u| u.trim().parse::<ServerAddr>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::io_at(format!("bad NATS URL in {:?}", opts.urls), e))?;
        let client = async_nats::ConnectOptions::new()
            .name("rostrum")
            .connection_timeout(REQUEST_TIMEOUT)
            .retry_on_initial_connect()
            .connect(addrs)
            .await
            .map_err(io)?;
        let mut js = jetstream::new(client);
        js.set_timeout(REQUEST_TIMEOUT);
        let deadline = tokio::time::Instant::now() + READY_DEADLINE;
        loop {
            match Self::open(&js, opts.replicas).await {
                Ok(stream) => {
                    return Ok(Self {
                        js,
                        stream,
                        tails: Arc::default(),
                    });
                }
                Err(e) if tokio::time::Instant::now() < deadline => {
                    tracing::info!(error = %e, "waiting for JetStream");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => {
                    return Err(StoreError::io(format!(
                        "JetStream at {} not ready after {READY_DEADLINE:?}: {e}",
                        opts.urls
                    )));
                }
            }
        }
    }

    async fn open(js: &jetstream::Context, replicas: usize) -> Result<stream::Stream, StoreError> {
        let stream = js
            .get_or_create_stream(stream::Config {
                name: STREAM.to_owned(),
                subjects: vec![
                    "rostrum.events.*".to_owned(),
                    "rostrum.sessions.*".to_owned(),
                    programme::PROGRAMME.to_owned(),
                ],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                duplicate_window: Duration::from_secs(120),
                allow_direct: true,
                deny_delete: true,
                deny_purge: true,
                ..Default::default()
            })
            .await
            .map_err(|e| io(format!("the stream {STREAM}: {e}")))?;
        // A stream made before the programme had its subject gains it.
        let config = &stream.cached_info().config;
        if !config.subjects.iter().any(|s| s == programme::PROGRAMME) {
            let mut config = config.clone();
            config.subjects.push(programme::PROGRAMME.to_owned());
            js.update_stream(config)
                .await
                .map_err(|e| io(format!("adding the programme to the stream {STREAM}: {e}")))?;
            return js
                .get_stream(STREAM)
                .await
                .map_err(|e| io(format!("the stream {STREAM}: {e}")));
        }
        Ok(stream)
    }

    /// The last message on `subject`, if any.
    async fn last_message(&self, subject: &str) -> Result<Option<StreamMessage>, StoreError> {
        match self.stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// The last append of session `id` as the stream has it now, and its `Nats-Msg-Id`.
    async fn last(&self, id: SessionId) -> Result<(Tail, Option<String>), StoreError> {
        let Some(m) = self.last_message(&subject(id)).await? else {
            return Ok((Tail::NONE, None));
        };
        let seq = header(Some(&m.headers), SEQ).ok_or_else(|| StoreError::Damaged {
            session: id,
            seq: 0,
            reason: "the last message has no seq".to_owned(),
        })?;
        let tail = Tail {
            seq,
            stream_seq: m.sequence,
        };
        self.remember(id, tail);
        let msg_id = m.headers.get(MSG_ID).map(|v| v.as_str().to_owned());
        Ok((tail, msg_id))
    }

    /// Publish and wait for the acknowledgement.
    async fn send(&self, subject: String, msg: PublishMessage) -> Result<PublishAck, PublishError> {
        self.js.send_publish(subject, msg).await?.await
    }

    fn remember(&self, id: SessionId, tail: Tail) {
        remember(&self.tails, id, tail);
    }
}

fn remember(tails: &DashMap<SessionId, Tail>, id: SessionId, tail: Tail) {
    tails
        .entry(id)
        .and_modify(|t| {
            // A claim moves the stream but not the seq.
            if (tail.seq, tail.stream_seq) > (t.seq, t.stream_seq) {
                *t = tail;
            }
        })
        .or_insert(tail);
}

impl EventLog for NatsLog {
    fn create<'a>(&'a self, meta: &'a SessionMeta, events: &'a [Event]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            // The events first: a session whose metadata exists always has its opening.
            match self
                .publish(meta.id, Tail::NONE, &Origin::default(), events)
                .await
            {
                Ok(_) => {}
                Err(StoreError::Conflict { .. }) => return Err(StoreError::Exists(meta.id)),
                Err(e) => return Err(e),
            }
            let body = serde_json::to_vec(meta).expect("meta serializes");
            let msg = PublishMessage::build()
                .payload(body.into())
                .expected_last_subject_sequence(0);
            match self.send(meta_subject(meta.id), msg).await {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == PublishErrorKind::WrongLastSequence => {
                    Err(StoreError::Exists(meta.id))
                }
                Err(e) => Err(io(e)),
            }
        })
    }

    fn meta(&self, id: SessionId) -> StoreFuture<'_, Option<SessionMeta>> {
        Box::pin(async move {
            let Some(m) = self.last_message(&meta_subject(id)).await? else {
                return Ok(None);
            };
            serde_json::from_slice(&m.payload)
                .map(Some)
                .map_err(|e| StoreError::Damaged {
                    session: id,
                    seq: 0,
                    reason: format!("unreadable metadata: {e}"),
                })
        })
    }

    fn list(&self) -> StoreFuture<'_, Vec<SessionMeta>> {
        Box::pin(async move {
            let mut metas = Vec::new();
            self.read_subject("rostrum.sessions.*".to_owned(), |msg| {
                if let Ok(meta) = serde_json::from_slice::<SessionMeta>(&msg.payload) {
                    metas.push(meta);
                }
                Ok(())
            })
            .await?;
            Ok(metas)
        })
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
        events: &'a [Event],
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let tail = self.tail_at(id, expected).await?;
            self.publish(id, tail, origin, events).await
        })
    }

    /// A message with the sender's headers and no events, under the command's message id.
    fn claim<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let tail = self.tail_at(id, expected).await?;
            self.publish(id, tail, origin, &[]).await.map(drop)
        })
    }

    fn load(&self, id: SessionId, after: u64) -> StoreFuture<'_, Vec<Event>> {
        Box::pin(async move {
            let mut events = self.read_all(id, Timestamp(u64::MAX)).await?.events;
            Ok(events.split_off((after as usize).min(events.len())))
        })
    }

    fn answers(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Vec<Recorded>> {
        Box::pin(async move { Ok(self.read_all(id, since).await?.answers) })
    }

    /// One read of the subject serves both: the answers are in the events' messages.
    fn replay(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Replay> {
        Box::pin(self.read_all(id, since))
    }

    fn shared(&self) -> bool {
        true
    }

    fn head(&self, id: SessionId) -> StoreFuture<'_, Option<u64>> {
        Box::pin(async move { Ok(Some(self.last(id).await?.0.seq)) })
    }

    fn follow(&self, id: SessionId, after: u64) -> StoreFuture<'_, Option<Follower>> {
        Box::pin(self.follow_from(id, after))
    }
}
