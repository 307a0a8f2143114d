//! A client's commands: parsed, checked for the caller's role (and, for a newcomer's onsite
//! join, the room code), submitted to the session, and answered; a newcomer's join mints their
//! own participant link.

use axum::extract::ws::Message;

use crate::auth::{Capability, Role};
use crate::metrics;
use crate::principal::Principal;
use crate::protocol::{self, Incoming, Outgoing, Resume, WireCommand, WireError, encode};
use crate::queue::{Actor, Command, Modality, ParticipantId};
use crate::session::Answer;

use super::close::Closed;
use super::connection::Conn;
use super::writer::Lagged;

impl Conn {
    /// Answer one text message: a command, a resync, or the error it earned.
    pub(super) async fn on_text(&mut self, text: &str) -> Result<(), Closed> {
        let reply = match protocol::parse(text) {
            Err((req, e)) => refused(req, &e),
            Ok(Incoming::Hello(_)) => refused(None, &WireError::HelloTwice),
            Ok(Incoming::Resync) => return self.resubscribe(None).await,
            Ok(Incoming::Command { req, command }) => {
                let in_room = match &command {
                    WireCommand::Join {
                        room: Some(code),
                        profile,
                    } if self.principal == Principal::Newcomer
                        && profile.modality == Modality::Onsite =>
                    {
                        if let Err(e) = self.room_code(code) {
                            return self
                                .send(Message::Text(refused(Some(req), &e).into()))
                                .await;
                        }
                        true
                    }
                    _ => false,
                };
                let Some(actor) = self.principal.actor() else {
                    return self
                        .send(Message::Text(
                            refused(Some(req), &WireError::ReadOnly).into(),
                        ))
                        .await;
                };
                match command.into_command(actor, in_room) {
                    Err(e) => refused(Some(req), &e),
                    Ok(command) => match self.join_allowed(&command) {
                        Ok(()) => self.submit(actor, req, command).await?,
                        Err(e) => refused(Some(req), &e),
                    },
                }
            }
        };
        self.send(Message::Text(reply.into())).await
    }

    /// Submit a command and phrase the answer; a `join` turns a newcomer into a participant
    /// and hands them their own link.
    async fn submit(&mut self, actor: Actor, req: u64, command: Command) -> Result<String, Closed> {
        let joining =
            matches!(command, Command::Join { .. }) && self.principal == Principal::Newcomer;
        let mut answer = self
            .handle
            .command(actor, Some(self.client.clone()), req, command.clone())
            .await;
        if answer.is_err() {
            // The actor stopped between lookups: start it again and resend once.
            if let Ok(Some(h)) = self.svc.hub.get(self.session).await {
                self.use_handle(h);
                answer = self
                    .handle
                    .command(actor, Some(self.client.clone()), req, command)
                    .await;
            }
        }
        Ok(match answer {
            Ok(Answer::Ack { seq, participant }) => {
                metrics::hot().commands_ok.increment(1);
                // The command's own frame (if this audience gets one) goes first.
                match self.catch_up(seq).await {
                    Ok(Lagged(false)) => {}
                    Ok(Lagged(true)) => {
                        metrics::hot().resync.increment(1);
                        let resume = Resume {
                            epoch: self.epoch,
                            seq: self.seq,
                        };
                        Box::pin(self.resubscribe(Some(resume))).await?;
                    }
                    Err(Closed) => return Err(Closed),
                }
                let token = participant.filter(|_| joining).map(|p| self.joined(p));
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

/// The error frame for a message refused before or outside the core, counted by its code.
fn refused(req: Option<u64>, e: &WireError) -> String {
    metrics::command_error(e.code());
    protocol::wire_error(req, e)
}
