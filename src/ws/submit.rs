//! A client's commands: parsed, checked for the caller's role (and, for a newcomer's onsite
//! join, the room code), submitted to the session, and answered; a newcomer's join mints their
//! own participant link.
//!
//! A connection does not wait for one command's answer before it reads the next: it keeps up
//! to [`IN_FLIGHT`] in the session's mailbox, so commands sent together are decided (and, on a
//! log this process alone writes, committed) together. Answers go out in the order the
//! messages came, each after its command's own update. Reading waits while a newcomer's join is
//! in flight (its answer changes who the connection acts as), and while commands sent to an
//! actor that stopped are sent again to its successor (so they keep their order).

use std::collections::VecDeque;

use axum::extract::ws::Message;
use tokio::sync::oneshot::{self, error::TryRecvError};

use crate::auth::{Capability, Role};
use crate::metrics;
use crate::principal::Principal;
use crate::protocol::{self, Incoming, Outgoing, WireCommand, WireError, encode};
use crate::queue::{Actor, Command, Modality, ParticipantId};
use crate::session::{Answer, Gone};

use super::close::Closed;
use super::connection::Conn;
use super::writer::Lagged;

/// Commands one connection keeps in the session's mailbox at most; past that it stops reading
/// its socket until an answer comes back.
pub(super) const IN_FLIGHT: usize = 32;

/// An answer a connection owes, in the order its messages came.
pub(super) enum Due {
    /// Phrased already (refused before reaching the session): sent when its turn comes.
    Ready(String),
    /// In the session's mailbox.
    Waiting(Box<Submitted>),
}

/// A command submitted to the session, kept to be sent again once if its actor stops.
pub(super) struct Submitted {
    actor: Actor,
    req: u64,
    command: Command,
    /// A newcomer's join: its ack makes the connection the participant it created.
    joining: bool,
    /// The handle it was sent to (`Conn::handles` counts them).
    handle: u32,
    pub(super) answer: oneshot::Receiver<Answer>,
}

impl Conn {
    /// Take one text message: a command (submitted, answered in its turn), a resync, or the
    /// error it earned.
    pub(super) async fn on_text(&mut self, text: &str) -> Result<(), Closed> {
        let refusal = match protocol::parse(text) {
            Err((req, e)) => refused(req, &e),
            Ok(Incoming::Hello(_)) => refused(None, &WireError::HelloTwice),
            Ok(Incoming::Resync) => return self.resubscribe(None).await,
            Ok(Incoming::Command { req, command }) => match self.admit(command) {
                Ok((actor, command)) => return self.submit(actor, req, command).await,
                Err(e) => refused(Some(req), &e),
            },
        };
        self.owe(Due::Ready(refusal)).await
    }

    /// The actor and the core command for a wire command, or why this connection may not send
    /// it.
    fn admit(&self, command: WireCommand) -> Result<(Actor, Command), WireError> {
        let in_room = match &command {
            WireCommand::Join {
                room: Some(code),
                profile,
            } if self.principal == Principal::Newcomer && profile.modality == Modality::Onsite => {
                self.room_code(code)?;
                true
            }
            _ => false,
        };
        let actor = self.principal.actor().ok_or(WireError::ReadOnly)?;
        let command = command.into_command(actor, in_room)?;
        self.join_allowed(&command)?;
        Ok((actor, command))
    }

    /// Whether the connection reads its next message now: not while it owes [`IN_FLIGHT`]
    /// answers, a newcomer's join, or answers from an actor that stopped.
    pub(super) fn reading(&self) -> bool {
        let joining = matches!(self.due.back(), Some(Due::Waiting(s)) if s.joining);
        let stale = matches!(self.due.front(), Some(Due::Waiting(s)) if s.handle != self.handles);
        self.due.len() < IN_FLIGHT && !joining && !stale
    }

    /// Put a command in the session's mailbox; its answer is owed in its turn.
    async fn submit(&mut self, actor: Actor, req: u64, command: Command) -> Result<(), Closed> {
        let joining =
            matches!(command, Command::Join { .. }) && self.principal == Principal::Newcomer;
        let client = Some(self.client.clone());
        let answer = match self
            .handle
            .submit(actor, client, req, command.clone())
            .await
        {
            Ok(answer) => answer,
            // The actor has stopped: the answer side is already closed, so the turn of this
            // command sends it again (after those before it).
            Err(Gone) => oneshot::channel().1,
        };
        let submitted = Submitted {
            actor,
            req,
            command,
            joining,
            handle: self.handles,
            answer,
        };
        self.owe(Due::Waiting(Box::new(submitted))).await
    }

    /// Send an answer now if nothing is owed before it, else keep it for its turn.
    async fn owe(&mut self, due: Due) -> Result<(), Closed> {
        match due {
            Due::Ready(text) if self.due.is_empty() => self.send(Message::Text(text.into())).await,
            due => {
                self.due.push_back(due);
                Ok(())
            }
        }
    }

    /// The session answered the first command owed (`Gone`: its actor stopped): send the answer,
    /// the refusals waiting behind it, and the answers already come after them, with one flush.
    pub(super) async fn answered(
        &mut self,
        mut answer: Result<Answer, Gone>,
    ) -> Result<(), Closed> {
        loop {
            let Some(Due::Waiting(s)) = self.due.pop_front() else {
                unreachable!("only a submitted command is awaited")
            };
            let decided = match answer {
                Ok(answer) => Ok(answer),
                Err(Gone) => self.resend(&s).await,
            };
            let reply = self.phrase(&s, decided).await?;
            self.feed(Message::Text(reply.into())).await?;
            while matches!(self.due.front(), Some(Due::Ready(_))) {
                if let Some(Due::Ready(text)) = self.due.pop_front() {
                    self.feed(Message::Text(text.into())).await?;
                }
            }
            answer = match self.due.front_mut() {
                Some(Due::Waiting(s)) => match s.answer.try_recv() {
                    Ok(a) => Ok(a),
                    Err(TryRecvError::Closed) => Err(Gone),
                    Err(TryRecvError::Empty) => break,
                },
                _ => break,
            };
        }
        self.flush().await
    }

    /// Send a command again once, after its actor stopped: to a fresh actor (started from the
    /// log, which knows the command if it was stored, so it takes effect once).
    async fn resend(&mut self, s: &Submitted) -> Result<Answer, Gone> {
        if s.handle == self.handles && !self.reattach().await {
            return Err(Gone);
        }
        let client = Some(self.client.clone());
        self.handle
            .command(s.actor, client, s.req, s.command.clone())
            .await
    }

    /// The wire answer to a command; a `join` turns a newcomer into a participant and hands
    /// them their own link.
    async fn phrase(
        &mut self,
        s: &Submitted,
        answer: Result<Answer, Gone>,
    ) -> Result<String, Closed> {
        let req = s.req;
        Ok(match answer {
            Ok(Answer::Ack { seq, participant }) => {
                metrics::hot().commands_ok.increment(1);
                // The command's own frame (if this audience gets one) goes first.
                if let Lagged(true) = self.catch_up(seq).await? {
                    metrics::hot().resync.increment(1);
                    self.resume_here().await?;
                }
                let token = participant.filter(|_| s.joining).map(|p| self.joined(p));
                encode(&Outgoing::Ack {
                    req,
                    seq,
                    participant: participant.map(|p| p.0),
                    token: token.as_deref(),
                })
            }
            Ok(Answer::Refused(r)) => {
                metrics::command_error(r.code());
                protocol::refusal(Some(req), &r)
            }
            Ok(Answer::Unavailable) | Err(_) => refused(Some(req), &WireError::Unavailable),
        })
    }

    /// A newcomer joined as `p`: the connection acts as them from now on, reports them present,
    /// and hands them their own link, signed at the session's current key epoch.
    fn joined(&mut self, p: ParticipantId) -> String {
        self.principal = Principal::Participant(p);
        self.present = Some(self.handle.present(p));
        let epoch = self.handle.key_epoch();
        self.link_epoch = Some(epoch);
        self.svc.settings.keys.sign(&Capability {
            role: Role::Participant,
            session: self.session,
            participant: Some(p),
            epoch,
        })
    }
}

/// The next answer owed by the session, for the first command owed; never, when none is.
pub(super) async fn next_answer(due: &mut VecDeque<Due>) -> Result<Answer, Gone> {
    match due.front_mut() {
        Some(Due::Waiting(s)) => (&mut s.answer).await.map_err(|_| Gone),
        _ => std::future::pending().await,
    }
}

/// The error frame for a message refused before or outside the core, counted by its code.
fn refused(req: Option<u64>, e: &WireError) -> String {
    metrics::command_error(e.code());
    protocol::wire_error(req, e)
}
